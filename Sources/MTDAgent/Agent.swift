import Foundation
import MTDCore

/// One device's agent: activates from its configuration, bundles observed events for a few seconds,
/// checks in on the interval the server asks for, keeps events in a durable outbox until a check-in
/// carrying them is accepted, and retries with backoff. Platform code comes in through protocols.
public actor Agent {
    public struct Options: Sendable {
        public var platform: Platform
        public var agentVersion = "0.1.0"
        /// Events observed within this many seconds travel in one check-in.
        public var coalesceSeconds: Double = 3
        public var maxEventsPerCheckIn = 2_000
        public var backoff = Backoff()

        public init(platform: Platform) {
            self.platform = platform
        }
    }

    public struct Status: Sendable, Equatable {
        public var activated: Bool
        public var deviceID: String?
        public var securityStatus: SecurityStatus?
        public var checkIns: Int
        public var bytesSent: Int
        public var lastCheckInBytes: Int
        public var consecutiveFailures: Int
        public var pendingEvents: Int
        public var evictedEvents: Int
        public var activations: Int
    }

    /// Notable things, for the host app's log (the SDK itself does not print).
    public enum Notice: Sendable, Equatable {
        case activated(deviceID: String, reactivated: Bool)
        case checkedIn(SecurityStatus, bytes: Int)
        case retrying(after: Double, reason: String)
        case eventsEvicted(total: Int)
    }

    public let configuration: AgentConfiguration
    let options: Options
    let source: any DeviceSource
    let credentials: any CredentialStore
    let outbox: any Outbox
    let stateStore: any AgentStateStore
    let api: AgentAPI
    let sleeper: @Sendable (Double) async throws -> Void
    let random: @Sendable () -> Double
    let clock: @Sendable () -> Date
    let notices: (@Sendable (Notice) -> Void)?
    /// In STANDALONE mode, how `contentProtectionEnabled` is learnt (see `ContentProtection`).
    let resolver: (any SystemResolver)?

    private var credential: AgentCredential?
    private var state: AgentState
    private var securityStatus: SecurityStatus?
    private var checkIns = 0
    private var bytesSent = 0
    private var lastCheckInBytes = 0
    private var failures = 0
    private var activations = 0
    private var eventDeadline: Date?
    private var wakeUp: CheckedContinuation<Void, Never>?

    public init(
        configuration: AgentConfiguration, options: Options, source: any DeviceSource, credentials: any CredentialStore,
        outbox: any Outbox, state: any AgentStateStore, transport: any AgentTransport,
        sleeper: @escaping @Sendable (Double) async throws -> Void = { try await Task.sleep(nanoseconds: SleepInterval.nanoseconds(max($0, 0))) },
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        clock: @escaping @Sendable () -> Date = { Date() },
        notices: (@Sendable (Notice) -> Void)? = nil,
        resolver: (any SystemResolver)? = nil
    ) throws {
        self.configuration = configuration
        self.options = options
        self.source = source
        self.credentials = credentials
        self.outbox = outbox
        self.stateStore = state
        self.api = AgentAPI(server: configuration.serverURL, transport: transport, agentVersion: options.agentVersion)
        self.sleeper = sleeper
        self.random = random
        self.clock = clock
        self.notices = notices
        self.resolver = resolver
        self.state = try state.load()
        let stored = try credentials.load()
        // A credential for another server is useless here.
        credential = stored?.server == configuration.serverURL.absoluteString ? stored : nil
    }

    public func status() async -> Status {
        Status(activated: credential != nil, deviceID: credential?.deviceID, securityStatus: securityStatus, checkIns: checkIns, bytesSent: bytesSent,
               lastCheckInBytes: lastCheckInBytes, consecutiveFailures: failures, pendingEvents: await outbox.count(),
               evictedEvents: await outbox.evicted(), activations: activations)
    }

    // MARK: Activation

    /// Activates when there is no credential (or `force`, after the server revoked it).
    @discardableResult
    public func activate(force: Bool = false) async throws(AgentError) -> AgentCredential {
        guard configuration.isEnabled else { throw .disabled }
        if let credential, !force { return credential }
        let activation = try await api.activate(configuration, platform: options.platform)
        let fresh = AgentCredential(deviceID: activation.deviceId, credential: activation.credential, server: configuration.serverURL.absoluteString)
        do { try credentials.save(fresh) } catch { throw .storage("cannot store the credential: \(error)") }
        credential = fresh
        activations += 1
        state.checkInIntervalSeconds = activation.checkInIntervalSeconds
        // A new activation may be a new device record: its inventory starts from scratch.
        state.inventoryVersion = nil
        state.acceptedApps = [:]
        saveState()
        notices?(.activated(deviceID: activation.deviceId, reactivated: activation.reactivated))
        return fresh
    }

    public func deactivate() async throws(AgentError) {
        guard let credential else { return }
        try await api.deactivate(credential: credential.credential)
        do { try credentials.clear() } catch { throw .storage("cannot remove the credential: \(error)") }
        self.credential = nil
    }

    // MARK: Events

    /// Keeps events in the outbox and schedules a check-in a few seconds out, so that a burst of
    /// observations travels together.
    public func record(_ events: [AgentEvent]) async throws {
        guard !events.isEmpty else { return }
        let evicted = try await outbox.append(events)
        if evicted > 0 { notices?(.eventsEvicted(total: await outbox.evicted())) }
        if eventDeadline == nil {
            eventDeadline = clock().addingTimeInterval(options.coalesceSeconds)
            wake()
        }
    }

    // MARK: Check-in

    /// One check-in attempt (reactivating once if the server revoked the credential).
    @discardableResult
    public func checkIn() async throws(AgentError) -> AgentAPI.CheckInAnswer {
        var current = try await activate()
        let (body, plan, lastSequence) = try await document()
        let answer: AgentAPI.CheckInAnswer
        do {
            answer = try await api.checkIn(body, credential: current.credential)
        } catch .credentialRevoked {
            current = try await activate(force: true)
            // The inventory starts again from a complete one for the new credential.
            let (again, replan, last) = try await document()
            let reply = try await api.checkIn(again, credential: current.credential)
            return try await accept(reply, plan: replan, through: last, bytes: again.count)
        }
        return try await accept(answer, plan: plan, through: lastSequence, bytes: body.count)
    }

    private func accept(_ answer: AgentAPI.CheckInAnswer, plan: InventoryPlanner.Plan?, through sequence: Int?, bytes: Int) async throws(AgentError) -> AgentAPI.CheckInAnswer {
        if let sequence {
            do { try await outbox.acknowledge(through: sequence) } catch { throw .storage("outbox: \(error)") }
        }
        // A delta the server could not apply (it asks for everything) was not accepted.
        if let plan, plan.inventory != nil, !answer.fullInventoryRequired {
            state.inventoryVersion = plan.version
            state.acceptedApps = plan.acceptedApps
        }
        state.fullInventoryRequired = answer.fullInventoryRequired
        state.checkInIntervalSeconds = max(answer.nextCheckInSeconds, 10)
        let evicted = await outbox.evicted()
        if evicted > state.evictionsReported {
            state.evictionsReported = evicted
            notices?(.eventsEvicted(total: evicted))
        }
        saveState()
        securityStatus = answer.securityStatus
        checkIns += 1
        bytesSent += bytes
        lastCheckInBytes = bytes
        failures = 0
        notices?(.checkedIn(answer.securityStatus, bytes: bytes))
        return answer
    }

    /// The check-in document: the device's state now, the inventory plan, and the outbox's events
    /// (network activity summed per app and host).
    private func document() async throws(AgentError) -> (Data, InventoryPlanner.Plan?, Int?) {
        let apps = await source.installedApps()
        let plan = apps.map { InventoryPlanner.plan(apps: $0, state: state) }
        let entries: [OutboxEntry]
        do { entries = try await outbox.pending(limit: options.maxEventsPerCheckIn) } catch { throw .storage("outbox: \(error)") }
        var activity: [String: NetworkActivity] = [:]
        var order: [String] = []
        var content: [ContentVisit] = []
        for entry in entries {
            switch entry.event {
            case .activity(let item):
                let key = (item.app ?? "") + "\u{0}" + item.host
                if var existing = activity[key] {
                    existing.count = (existing.count ?? 1) + (item.count ?? 1)
                    activity[key] = existing
                } else {
                    activity[key] = item
                    order.append(key)
                }
            case .content(let visit):
                content.append(visit)
            }
        }
        var posture = await source.posture()
        // A standalone agent protects content through the resolver the MDM's DNS settings name,
        // so it reports what the device resolves through, whatever the platform source said.
        if configuration.mode == .standalone, let resolver {
            let enabled = await ContentProtection.isEnabled(serverURL: configuration.serverURL, resolver: resolver)
            if posture == nil { posture = Posture() }
            posture?.contentProtectionEnabled = enabled
        }
        let checkIn = CheckIn(
            agent: AgentInfo(mode: configuration.mode, version: options.agentVersion, sentAt: Self.timestamp(clock())),
            device: await source.device(), posture: posture, apps: plan?.inventory, network: await source.network(),
            activity: order.isEmpty ? nil : order.compactMap { activity[$0] }, content: content.isEmpty ? nil : content,
            diagnostics: await source.diagnostics())
        do {
            return (try JSONEncoder().encode(checkIn), plan, entries.last?.sequence)
        } catch {
            throw .storage("cannot encode the check-in: \(error)")
        }
    }

    // MARK: Schedule

    /// Runs until cancelled: check-ins on the server's interval and after bundled events, retries
    /// with backoff (the server's Retry-After wins), reactivation when the credential is revoked.
    public func run() async {
        var nextPeriodic = clock()
        while !Task.isCancelled {
            let now = clock()
            let due = min(nextPeriodic, eventDeadline ?? .distantFuture)
            if due > now {
                await pause(until: due)
                continue
            }
            do {
                try await checkIn()
                eventDeadline = await outbox.count() > 0 ? clock() : nil
                nextPeriodic = clock().addingTimeInterval(Double(state.checkInIntervalSeconds))
            } catch {
                if case .disabled = error { return }
                failures += 1
                var retryAfter: Double?
                if case .retryable(_, let after) = error { retryAfter = after }
                let delay = options.backoff.delay(attempt: failures, retryAfter: retryAfter, random: random())
                notices?(.retrying(after: delay, reason: error.description))
                do { try await sleeper(delay) } catch { return }
            }
        }
    }

    private func pause(until deadline: Date) async {
        let seconds = deadline.timeIntervalSince(clock())
        guard seconds > 0 else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            wakeUp = continuation
            let sleeper = sleeper
            Task { [weak self] in
                try? await sleeper(seconds)
                await self?.wake()
            }
        }
    }

    private func wake() {
        wakeUp?.resume()
        wakeUp = nil
    }

    private func saveState() {
        // State is an optimisation (deltas, interval): failing to save costs a complete inventory later.
        try? stateStore.save(state)
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
