import MTDServices
import MobileRiskAPI
import MTDAutomations
import BuiltinUEM
import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import MTDIntel
import MTDStore
import UEMClient
import SQLKit
import Vapor

/// The composition root: databases, migrations, services, middleware, routes and background work.
public func configure(_ app: Application, _ configuration: ServerConfiguration, intelligence: ThreatIntelligence,
                      evaluationClock: EvaluationClock = .system) async throws {
    let usesSQLite = try await DatabaseSetup.use(databaseURL: configuration.databaseURL, sqlitePath: configuration.sqlitePath,
                                                 dataDirectory: configuration.dataDirectory, on: app)
    for migration in StoreMigrations.all { app.migrations.add(migration) }
    for migration in BuiltinUEM.migrations { app.migrations.add(migration) }
    for migration in MobileRiskAPI.migrations { app.migrations.add(migration) }
    for migration in Automations.migrations { app.migrations.add(migration) }
    try await app.autoMigrate()

    let services = MTDServices(configuration: configuration, intelligence: intelligence, serializeWrites: usesSQLite, clock: evaluationClock)
    app.storage[MTDServicesKey.self] = services
    try await Bootstrap.ensureDefaultEnterprise(app: app, configuration: configuration)
    if let uem = try await BuiltinUEM.bootstrapIfEmpty(on: app.db, adminPassword: configuration.uemAdminPassword) {
        var secrets: KeyValuePairs<String, String> = ["uem_tenant_code": uem.tenantCode, "uem_username": uem.adminUsername]
        if configuration.uemAdminPassword == nil {
            secrets = ["uem_tenant_code": uem.tenantCode, "uem_username": uem.adminUsername, "uem_password": uem.adminPassword]
        }
        try FirstStartSecrets.record(secrets, dataDirectory: configuration.dataDirectory, logger: app.logger)
        app.logger.notice("built-in UEM ready at /API", metadata: ["username": "\(uem.adminUsername)"])
    }

    app.http.server.configuration.hostname = configuration.hostname
    app.http.server.configuration.port = configuration.port
    if let (certificate, key) = try TLSSetup.validate(certificatePath: configuration.tlsCertificatePath, keyPath: configuration.tlsKeyPath) {
        app.http.server.configuration.tlsConfiguration = try TLSSetup.serverConfiguration(certificatePath: certificate, keyPath: key)
        // HTTP/2 (negotiated by ALPN) for DNS-over-HTTPS clients, which multiplex queries on one connection.
        app.http.server.configuration.supportVersions = [.one, .two]
    }
    app.routes.defaultMaxBodySize = "1mb"
    app.middleware = Middlewares()
    app.middleware.use(ShutdownGateMiddleware(gate: services.shutdownGate))
    app.middleware.use(RequestMetricsMiddleware(metrics: services.metrics))
    app.middleware.use(APIErrorMiddleware(logger: app.logger))
    try routes(app)
    let writes = services.writes
    BuiltinUEM.routes(app, serializeWrites: { work in try await writes.run(priority: .urgent, work) },
                      lookups: ResolverTokenLookups(database: { [unowned app] in app.db }), isDatabaseOutage: DatabaseOutage.isOutage)
    services.mobileRisk.routes(app, isDatabaseOutage: DatabaseOutage.isOutage)
    app.lifecycle.use(BackgroundWorkLifecycle(services: services))
    // Vapor creates its HTTP server lazily and without a lock on first use. Create it here, once
    // routes and middleware are in place and before anything runs concurrently: a background task
    // asking for the listening port while `serve` started up used to create a second server, and
    // the started one was freed under its open socket (a crash at startup in about 1 of 6 runs).
    _ = app.http.server.shared
}

struct ServerStartupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Starts background work with the server (event-log consumers, the PostgreSQL listener that wakes
/// them, the UEM connection) and stops it at shutdown, giving up held leases.
struct BackgroundWorkLifecycle: LifecycleHandler {
    let services: MTDServices

    func didBootAsync(_ application: Application) async throws {
        let services = services
        let database: @Sendable () -> any Database = { application.db }
        let configuration = services.configuration
        if let url = configuration.databaseURL, !url.isEmpty {
            let eventLoop = application.eventLoopGroup.any()
            let logger = Logger(label: "openmtd.wakeups")
            services.background { await PostgresWakeups.run(databaseURL: url, eventLoop: eventLoop, signal: services.eventSignal, logger: logger) }
            do {
                let doctor = try PostgresPoolDoctor(application: application, databaseURL: url, metrics: services.metrics)
                services.poolDoctor.withLockedValue { $0 = doctor }
                services.background { await doctor.run() }
            } catch {
                logger.error("cannot watch the connection pools", metadata: ["error": "\(error)"])
            }
        }
        if configuration.databaseURL?.isEmpty ?? true {
            let path = configuration.sqlitePath
            let threadPool = application.threadPool
            let eventLoop = application.eventLoopGroup.any()
            let logger = Logger(label: "openmtd.sqlite")
            services.background { await SQLiteCheckpoints.run(path: path, threadPool: threadPool, eventLoop: eventLoop, logger: logger) }
        }
        services.background { await ApplicationKeyWarnings.run(services: services, database: database) }
        let retentionDays = configuration.eventRetentionDays
        let writes = services.writes
        services.background { await EventRetention.run(days: retentionDays, writes: writes, database: database) }
        if configuration.builtinUEMNotifications {
            let logger = Logger(label: "openmtd.uem-notifications")
            services.background { await BuiltinUEMNotificationDelivery.run(app: application, services: services, logger: logger) }
        }
        if configuration.connectUEMAtStart {
            services.background { await UEMConnectionLifecycle.run(app: application, services: services) }
        }
        services.automations.useUEM(AutomationUEMSender(app: application, services: services))
        let consumers = services.consumers
        try await services.dns.start(settings: configuration.dns, listenHost: configuration.hostname,
                                     tls: application.http.server.configuration.tlsConfiguration, policies: services.policies, writes: services.writes,
                                     database: database, group: application.eventLoopGroup, egress: EgressGuard(policy: configuration.egressPolicy),
                                     mayResolve: { consumers.holdsLease("connection-sweeper") })
        services.startConsumers([
            UEMSyncConsumer(app: application, services: services, logger: Logger(label: "openmtd.uem-sync")),
            ConnectionSweepConsumer(sweeper: services.sweeper, every: Double(configuration.sweepIntervalSeconds), logger: Logger(label: "openmtd.sweeper")),
            PolicyReevaluationConsumer(reevaluator: services.reevaluator, logger: Logger(label: "openmtd.reevaluation")),
            AutomationConsumer(automations: services.automations),
            // Every replica fans the log out to its own stream clients (no lease).
            StreamFanoutConsumer(hub: services.mobileRisk.hub),
        ], database: database)
    }

    func shutdownAsync(_ application: Application) async {
        // Lifecycle handlers stop before the databases close: no request may still need one then.
        await services.shutdownGate.close()
        await services.shutdown(database: application.db)
    }
}

/// What a process next to the server needs to drive a demo fleet against it.
public struct DemoAccess: Sendable {
    public var serverURL: URL
    public var enrollmentCode: String
    public var uemBaseURL: String
    public var tenantCode: String
    public var username: String
    public var password: String
}

/// Runs the server until SIGINT or SIGTERM, then shuts down gracefully.
public enum OpenMTDServer {
    /// `whenListening` runs once the server accepts connections (the `--demo` fleet), and is
    /// cancelled at shutdown.
    public static func run(configuration: ServerConfiguration, intelligence: ThreatIntelligence, evaluationClock: EvaluationClock = .system,
                           whenListening: (@Sendable (DemoAccess) async -> Void)? = nil) async throws {
        var environment = Environment(name: "production", arguments: ["openmtd"])
        try LoggingSystem.bootstrap(from: &environment)
        let app = try await Application.make(environment)
        do {
            try await configure(app, configuration, intelligence: intelligence, evaluationClock: evaluationClock)
            if let whenListening {
                let services = app.mtd
                services.background {
                    do {
                        guard let access = try await demoAccess(app) else { return }
                        await whenListening(access)
                    } catch {
                        app.logger.error("the demo fleet could not start", metadata: ["error": "\(error)"])
                    }
                }
            }
            try await app.execute()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        // Stop accepting and let the requests in flight finish before anything else closes: the
        // application's own shutdown closes the databases in no set order with the HTTP server, and a
        // request reaching for a closed database pool traps.
        // Open event streams get `reconnect` and end, so that the drain below does not wait for them.
        await app.mtd.mobileRisk.hub.close()
        await app.server.shutdown()
        try await app.asyncShutdown()
    }

    /// Waits until the server listens, then hands out its address, an enrollment code and a UEM account.
    static func demoAccess(_ app: Application) async throws -> DemoAccess? {
        var port: Int?
        for _ in 0..<600 where port == nil {
            port = app.http.server.shared.localAddress?.port
            if port == nil { try await Task.sleep(nanoseconds: 100_000_000) }
        }
        guard let port else { return nil }
        let configuration = app.mtd.configuration
        let host = configuration.hostname == "0.0.0.0" ? "127.0.0.1" : configuration.hostname
        let scheme = configuration.tlsCertificatePath == nil ? "http" : "https"
        guard let url = URL(string: "\(scheme)://\(host):\(port)"),
              let code = try await EnrollmentCodeModel.query(on: app.db).filter(\.$revokedAt == nil).sort(\.$createdAt, .descending).first()?.code
        else { return nil }
        let account = try await app.mtd.writes.run { try await BuiltinUEM.ensureDemoAccount(on: app.db) }
        return DemoAccess(serverURL: url, enrollmentCode: code, uemBaseURL: url.absoluteString + "/API", tenantCode: account.tenantCode,
                          username: account.username, password: account.password)
    }
}
