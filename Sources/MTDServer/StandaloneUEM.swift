import MTDServices
import BuiltinUEM
import Fluent
import Foundation
import Vapor

/// `openmtd uem serve`: the built-in UEM on its own, for an MTD server elsewhere (or a Hub
/// simulator) to talk to exactly as it would to a Workspace ONE tenant.
public struct UEMServerConfiguration: Sendable, Equatable {
    public var hostname = "127.0.0.1"
    public var port = 8081
    public var databaseURL: String?
    public var dataDirectory = "openmtd-uem-data"
    /// Password of the first admin (`uemadmin`); generated and shown once when nil.
    public var adminPassword: String?
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?

    public init() {}

    var sqlitePath: String { URL(fileURLWithPath: dataDirectory).appendingPathComponent("uem.sqlite").path }
}

public enum StandaloneUEM {
    /// Database, migrations, first-start bootstrap and routes; returns what the first start created (nil afterwards).
    @discardableResult
    public static func configure(_ app: Application, _ configuration: UEMServerConfiguration) async throws -> BuiltinUEM.Bootstrap? {
        let usesSQLite = try await DatabaseSetup.use(databaseURL: configuration.databaseURL, sqlitePath: configuration.sqlitePath,
                                                     dataDirectory: configuration.dataDirectory, on: app)
        for migration in BuiltinUEM.migrations { app.migrations.add(migration) }
        try await app.autoMigrate()
        let bootstrap = try await BuiltinUEM.bootstrapIfEmpty(on: app.db, adminPassword: configuration.adminPassword)
        app.http.server.configuration.hostname = configuration.hostname
        app.http.server.configuration.port = configuration.port
        if let (certificate, key) = try TLSSetup.validate(certificatePath: configuration.tlsCertificatePath, keyPath: configuration.tlsKeyPath) {
            app.http.server.configuration.tlsConfiguration = try TLSSetup.serverConfiguration(certificatePath: certificate, keyPath: key)
        }
        app.middleware = Middlewares()
        app.get("healthz") { _ in ["status": "ok"] }
        let writes = WriteGate(serializer: usesSQLite ? WriteSerializer() : nil)
        BuiltinUEM.routes(app, serializeWrites: { work in try await writes.run(work) }, isDatabaseOutage: DatabaseOutage.isOutage)
        return bootstrap
    }

    public static func run(configuration: UEMServerConfiguration) async throws {
        var environment = Environment(name: "production", arguments: ["openmtd"])
        try LoggingSystem.bootstrap(from: &environment)
        let app = try await Application.make(environment)
        do {
            if let first = try await configure(app, configuration) {
                var secrets: KeyValuePairs<String, String> = ["uem_tenant_code": first.tenantCode, "uem_username": first.adminUsername]
                if configuration.adminPassword == nil {
                    secrets = ["uem_tenant_code": first.tenantCode, "uem_username": first.adminUsername, "uem_password": first.adminPassword]
                }
                try FirstStartSecrets.record(secrets, dataDirectory: configuration.dataDirectory, logger: app.logger)
                app.logger.notice("built-in UEM ready at /API", metadata: ["username": "\(first.adminUsername)"])
            }
            try await app.execute()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        // Stop accepting and let the requests in flight finish before anything else closes: the
        // application's own shutdown closes the databases in no set order with the HTTP server, and a
        // request reaching for a closed database pool traps.
        await app.server.shutdown()
        try await app.asyncShutdown()
    }
}
