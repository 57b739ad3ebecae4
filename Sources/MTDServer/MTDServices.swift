import MTDServices
import MobileRiskAPI
import MTDAutomations
import UEMClient
import BuiltinUEM
import MTDCore
import FluentKit
import Foundation
import Logging
import MTDIntel
import NIOConcurrencyHelpers
import ProtectiveDNS
import Vapor

/// The server's services, built once in `configure` and reached from handlers as `req.application.mtd`.
final class MTDServices: Sendable {
    let configuration: ServerConfiguration
    let intelligence: ThreatIntelligence
    let writes: WriteGate
    /// Admits requests until shutdown begins (ShutdownGateMiddleware).
    let shutdownGate = ShutdownGate()
    let policies: PolicyService
    let checkIns: CheckInService
    let activation: ActivationService
    let reevaluator: Reevaluator
    let sweeper: ConnectionSweeper
    let threatActions: ThreatActions
    let enrollmentCodes: EnrollmentCodeService
    let activationLimiter: RateLimiter
    /// Failed admin logins per client address (admin API and console): passwords cannot be guessed at speed.
    let loginLimiter: RateLimiter
    let metrics: ServerMetrics
    /// Load balancers whose X-Forwarded-For is believed (see Request.clientAddress).
    let trustedProxies: [IPNetwork]
    let uemSync: UEMSync
    /// Woken when events commit (in this process, and in others through PostgreSQL).
    let eventSignal: EventSignal
    let consumers: ConsumerRunner
    /// The Lookout-compatible Mobile Risk API: application keys, tokens, the event stream.
    let mobileRisk: MobileRiskAPI
    /// Rules that act on threats and device changes (webhooks today).
    let automations: Automations
    /// The protective DNS resolver (running when a DNS port is configured).
    let dns: ProtectiveDNSService
    /// Trusts the server's own certificate when it serves HTTPS (calls to the built-in UEM).
    let loopbackHTTP: HTTPClient?
    /// Set at boot on PostgreSQL; told when a write missed its deadline.
    let poolDoctor: NIOLockedValueBox<PostgresPoolDoctor?>
    private let tasks = BackgroundTasks()
    private let serviceAccount = NIOLockedValueBox<BuiltinUEM.ServiceAccount?>(nil)
    private let automationAccount = NIOLockedValueBox<BuiltinUEM.ServiceAccount?>(nil)

    init(configuration: ServerConfiguration, intelligence: ThreatIntelligence, serializeWrites: Bool, clock: EvaluationClock = .system) {
        self.configuration = configuration
        self.intelligence = intelligence
        eventSignal = EventSignal()
        let poolDoctor = NIOLockedValueBox<PostgresPoolDoctor?>(nil)
        self.poolDoctor = poolDoctor
        if serializeWrites {
            writes = WriteGate(serializer: WriteSerializer(), committed: eventSignal)
        } else {
            let stalled: @Sendable () -> Void = { poolDoctor.withLockedValue { $0 }?.suspectStall() }
            writes = WriteGate(serializer: nil, committed: eventSignal, stalled: stalled)
        }
        var timing = ConsumerRunner.Timing()
        timing.pollSeconds = max(configuration.consumerPollSeconds, 0.01)
        consumers = ConsumerRunner(signal: eventSignal, writes: writes, timing: timing)
        mobileRisk = MobileRiskAPI(settings: configuration.mobileRisk, writes: writes, intelligence: { intelligence })
        automations = Automations(settings: configuration.automations, writes: writes, egress: EgressGuard(policy: configuration.egressPolicy))
        policies = PolicyService(intelligence: intelligence, writes: writes)
        checkIns = CheckInService(policies: policies, writes: writes, clock: clock)
        let resolverTokens = ResolverTokenDirectory()
        activation = ActivationService(writes: writes, resolverTokens: resolverTokens)
        reevaluator = Reevaluator(policies: policies, writes: writes, clock: clock)
        sweeper = ConnectionSweeper(thresholds: configuration.connection, writes: writes)
        threatActions = ThreatActions(writes: writes)
        enrollmentCodes = EnrollmentCodeService(writes: writes)
        activationLimiter = RateLimiter(
            scope: "activation", capacity: configuration.activationAttemptsPerMinute, perMinute: configuration.activationAttemptsPerMinute, writes: writes)
        loginLimiter = RateLimiter(
            scope: "login", capacity: configuration.loginAttemptsPerMinute, perMinute: configuration.loginAttemptsPerMinute, writes: writes)
        trustedProxies = configuration.trustedProxies.compactMap(IPNetwork.parse)
        metrics = ServerMetrics()
        dns = ProtectiveDNSService(metrics: DNSMetrics(registry: metrics.registry), tokens: resolverTokens)
        uemSync = UEMSync(writes: writes, logger: Logger(label: "openmtd.uem-sync"))
        loopbackHTTP = configuration.tlsCertificatePath.map(TLSSetup.loopbackClient(trusting:))
    }

    /// The built-in UEM's account for this server's MTD, read once per process; every replica on the
    /// database shares its password.
    func builtinServiceAccount(app: Application) async throws -> BuiltinUEM.ServiceAccount {
        if let account = serviceAccount.withLockedValue({ $0 }) { return account }
        let account = try await writes.run { try await BuiltinUEM.ensureMTDServiceAccount(on: app.db) }
        serviceAccount.withLockedValue { $0 = account }
        return account
    }

    /// The built-in UEM's account automations send device commands with (Devices Edit).
    func builtinAutomationAccount(app: Application) async throws -> BuiltinUEM.ServiceAccount {
        if let account = automationAccount.withLockedValue({ $0 }) { return account }
        let account = try await writes.run { try await BuiltinUEM.ensureAutomationAccount(on: app.db) }
        automationAccount.withLockedValue { $0 = account }
        return account
    }

    func startConsumers(_ list: [any EventConsumer], database: @escaping @Sendable () -> any Database) {
        consumers.start(list, database: database, tasks: tasks)
    }

    /// This server as it reaches itself (the built-in UEM, its own notification endpoint):
    /// `http(s)://HOST:PORT` with a wildcard listen address replaced by loopback; nil before it listens.
    func loopbackBaseURL(app: Application) -> String? {
        guard let port = app.http.server.shared.localAddress?.port else { return nil }
        let host = configuration.hostname == "0.0.0.0" ? "127.0.0.1" : configuration.hostname
        return "\(loopbackHTTP == nil ? "http" : "https")://\(host):\(port)"
    }

    /// Runs work after the response; cancelled and awaited at shutdown.
    func background(_ work: @escaping @Sendable () async -> Void) {
        tasks.start(work)
    }

    func shutdown(database: any Database) async {
        await dns.stop()
        await tasks.cancelAll()
        await consumers.releaseLeases(database: database)
        try? await loopbackHTTP?.shutdown()
    }
}

/// Tracks background tasks so that shutdown can wait for them instead of cutting them off.
final class BackgroundTasks: Sendable {
    private let state = NIOLockedValueBox<[UUID: Task<Void, Never>]>([:])

    func start(_ work: @escaping @Sendable () async -> Void) {
        let id = UUID()
        let task = Task { [state] in
            await work()
            _ = state.withLockedValue { $0.removeValue(forKey: id) }
        }
        state.withLockedValue { $0[id] = task }
    }

    /// Cancels every task and waits for them, at most `deadline` seconds: a task that ignores
    /// cancellation must not keep the process from stopping on SIGTERM.
    func cancelAll(deadline seconds: Double = 5) async {
        let tasks = state.withLockedValue { Array($0.values) }
        for task in tasks { task.cancel() }
        // Awaiting a task's value cannot be cancelled, so the deadline races it from outside.
        let resumed = NIOLockedValueBox(false)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finish: @Sendable () -> Void = {
                let first = resumed.withLockedValue { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume() }
            }
            Task {
                for task in tasks { await task.value }
                finish()
            }
            Task {
                try? await Task.sleep(nanoseconds: SleepInterval.nanoseconds(seconds))
                finish()
            }
        }
    }
}

struct MTDServicesKey: StorageKey {
    typealias Value = MTDServices
}

extension Application {
    var mtd: MTDServices {
        guard let services = storage[MTDServicesKey.self] else {
            fatalError("configure(_:_:intelligence:) was not called on this application")
        }
        return services
    }
}
