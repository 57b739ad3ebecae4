import AsyncHTTPClient
import FluentKit
import Foundation
import MTDIntel
@testable import MTDServer
import MTDStore
import NIOCore
import NIOHTTP1
import SQLKit
import TestSupport
import Testing
import Vapor

/// The shipped intelligence, loaded once per test process.
enum Shipped {
    static let intelligence: ThreatIntelligence? = try? IntelligenceLoader.load()
}

/// The databases the server tests run on. PostgreSQL needs OPENMTD_TEST_POSTGRES_URL (`.ci/run` sets
/// it). Without it the PostgreSQL cases are left out and `PostgreSQLAvailability` is reported as
/// skipped; under CI=true they stay in and fail, so a missing install step cannot pass as green.
enum TestDatabase: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    static let postgresURL = ProcessInfo.processInfo.environment["OPENMTD_TEST_POSTGRES_URL"]

    var testDescription: String { rawValue }

    static let available: [TestDatabase] = postgresURL != nil || Prerequisite.inCI ? allCases : [.sqlite]

    static func requirePostgresURL() throws -> String {
        guard let postgresURL else { try Prerequisite.missing("PostgreSQL: set OPENMTD_TEST_POSTGRES_URL (see .ci/run)") }
        return postgresURL
    }
}

/// Shows up as skipped when the PostgreSQL cases of the server tests are left out.
struct PostgreSQLAvailability {
    @Test(.enabled(if: TestDatabase.postgresURL != nil || Prerequisite.inCI, "OPENMTD_TEST_POSTGRES_URL is not set: the PostgreSQL cases of the server tests do not run"))
    func serverTestsRunOnPostgreSQL() async throws {
        try await withServer(.postgres) { server in
            let health = try await server.send(.GET, "/healthz")
            #expect(health.json["database"] as? String == "ok")
        }
    }
}

extension HTTPClient.Configuration {
    /// For tests that run beside others on two cores: a request queued for one of the pool's
    /// connections may wait longer than AsyncHTTPClient's default 10 s (it then fails with
    /// getConnectionFromPoolTimeout although the server is answering, only slowly).
    static func patient(redirects: Bool = true, connections: Int = 8) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: redirects ? .follow(max: 5, allowCycles: false) : .disallow,
            timeout: .init(connect: .seconds(120), read: .seconds(300)))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        return configuration
    }
}

/// A real server on a loopback port, with its own database, reached over real HTTP.
final class TestServer: @unchecked Sendable {
    let app: Application
    let baseURL: String
    let client: HTTPClient
    let rawClient: HTTPClient
    let enrollmentCode: String
    let enterpriseID: UUID
    let ownerPassword = "owner-password-1234"
    let configuration: ServerConfiguration

    private init(app: Application, baseURL: String, enrollmentCode: String, enterpriseID: UUID, configuration: ServerConfiguration) {
        self.app = app
        self.baseURL = baseURL
        var patient = HTTPClient.Configuration.patient(), raw = HTTPClient.Configuration.patient(redirects: false)
        if configuration.tlsCertificatePath != nil {
            // The tests' own self-signed certificate.
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            patient.tlsConfiguration = tls
            raw.tlsConfiguration = tls
        }
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: patient)
        rawClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: raw)
        self.enrollmentCode = enrollmentCode
        self.enterpriseID = enterpriseID
        self.configuration = configuration
    }

    /// Starts a server. `dataDirectory` reuses a SQLite database (for restart tests); PostgreSQL
    /// starts from an empty schema unless `keepData`.
    static func start(
        _ database: TestDatabase, dataDirectory: String? = nil, keepData: Bool = false,
        adjust: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> TestServer {
        let intelligence = try #require(Shipped.intelligence)
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.adminPassword = "owner-password-1234"
        configuration.adminEmail = "owner@example.com"
        configuration.sweepIntervalSeconds = 3600
        configuration.connectUEMAtStart = false
        // Tests reach nothing but this machine, whatever URL a test gives the server.
        configuration.egressAllow = ["127.0.0.0/8", "::1", "localhost"]
        configuration.dataDirectory = dataDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("openmtd-test-\(UUID().uuidString)").path
        if database == .postgres {
            // One database per test (named after its data folder), so suites can run in parallel.
            let base = try TestDatabase.requirePostgresURL()
            let name = "openmtd_t_" + String(UInt64(bitPattern: Int64(configuration.dataDirectory.hashValue)), radix: 36)
            if !keepData { try await recreatePostgresDatabase(named: name, serverURL: base) }
            let slash = try #require(base.range(of: "/", options: .backwards))
            configuration.databaseURL = String(base[..<slash.lowerBound]) + "/" + name
        }
        adjust(&configuration)
        let app = try await Application.make(Environment(name: "testing", arguments: ["vapor"]))
        app.logger.logLevel = .warning
        do {
            try await configure(app, configuration, intelligence: intelligence, evaluationClock: .starting(at: TestCalendar.documentsWritten))
            // Runs the default command (serve) on the configured address: port 0 picks a free port.
            try await app.startup()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        let port = try #require(app.http.server.shared.localAddress?.port)
        let code = try #require(try await EnrollmentCodeModel.query(on: app.db).filter(\.$revokedAt == nil).sort(\.$createdAt).first())
        return TestServer(app: app, baseURL: "\(configuration.tlsCertificatePath == nil ? "http" : "https")://127.0.0.1:\(port)", enrollmentCode: code.code, enterpriseID: code.$enterprise.id, configuration: configuration)
    }

    func stop() async throws {
        try await client.shutdown()
        try await rawClient.shutdown()
        await app.server.shutdown()
        try await app.asyncShutdown()
    }

    /// Drops and creates a database on the test server: every PostgreSQL test starts empty.
    static func recreatePostgresDatabase(named name: String, serverURL: String) async throws {
        let app = try await Application.make(Environment(name: "testing", arguments: ["vapor"]))
        app.logger.logLevel = .warning
        app.databases.use(try .postgres(url: serverURL), as: .psql)
        do {
            let sql = try #require(app.db as? any SQLDatabase)
            try await sql.raw("DROP DATABASE IF EXISTS \(unsafeRaw: name) WITH (FORCE)").run()
            try await sql.raw("CREATE DATABASE \(unsafeRaw: name)").run()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }

    struct Reply {
        var status: Int
        var body: Data
        var headers: HTTPHeaders

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
        var errorField: String? { (json["error"] as? [String: Any])?["field"] as? String }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    }

    func send(_ method: NIOHTTP1.HTTPMethod, _ path: String, token: String? = nil, body: Data? = nil, contentType: String = "application/json") async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(data: body))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 64 * 1024 * 1024)
        return Reply(status: Int(response.status.code), body: Data(buffer: buffer), headers: response.headers)
    }

    /// Like a browser without redirect following: the console's 303s and cookies are seen as sent.
    func sendRaw(_ method: NIOHTTP1.HTTPMethod, _ path: String, headers: [String: String], body: Data?) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in headers where !value.isEmpty { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(data: body)) }
        let response = try await rawClient.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 64 * 1024 * 1024)
        return Reply(status: Int(response.status.code), body: Data(buffer: buffer), headers: response.headers)
    }

    func send(_ method: NIOHTTP1.HTTPMethod, _ path: String, token: String? = nil, json: Any) async throws -> Reply {
        try await send(method, path, token: token, body: try JSONSerialization.data(withJSONObject: json))
    }

    // MARK: Flows

    func login(_ email: String = "owner@example.com", password: String? = nil) async throws -> String {
        let reply = try await send(.POST, "/api/v1/auth/login", json: ["email": email, "password": password ?? ownerPassword])
        #expect(reply.status == 200, "\(reply.text)")
        return try #require(reply.json["token"] as? String)
    }

    struct Agent {
        var deviceID: String
        var credential: String
    }

    func activate(udid: String, platform: String = "ANDROID", mode: String = "EMBEDDED", code: String? = nil, externalID: String? = nil) async throws -> Agent {
        var body: [String: Any] = ["enrollmentCode": code ?? enrollmentCode, "platform": platform, "mode": mode, "udid": udid, "email": "\(udid)@example.com"]
        if let externalID { body["externalId"] = externalID }
        let reply = try await send(.POST, "/agent/v1/activate", json: body)
        #expect(reply.status == 201, "\(reply.text)")
        return Agent(deviceID: try #require(reply.json["deviceId"] as? String), credential: try #require(reply.json["credential"] as? String))
    }

    func checkIn(_ agent: Agent, _ document: [String: Any]) async throws -> Reply {
        try await send(.POST, "/agent/v1/checkin", token: agent.credential, json: document)
    }

    func events(_ token: String, after: Int = 0) async throws -> [[String: Any]] {
        let reply = try await send(.GET, "/api/v1/events?after=\(after)&limit=1000", token: token)
        return reply.json["events"] as? [[String: Any]] ?? []
    }

    func eventHead(_ token: String) async throws -> Int {
        Int(try await events(token).last?["id"] as? String ?? "0") ?? 0
    }
}

/// Runs `body` against a fresh server and stops the server whatever happens.
func withServer(
    _ database: TestDatabase, dataDirectory: String? = nil, keepData: Bool = false,
    adjust: (inout ServerConfiguration) -> Void = { _ in }, _ body: (TestServer) async throws -> Void
) async throws {
    let server = try await TestServer.start(database, dataDirectory: dataDirectory, keepData: keepData, adjust: adjust)
    do {
        try await body(server)
    } catch {
        try await server.stop()
        throw error
    }
    try await server.stop()
}

/// Check-in documents for tests.
enum Documents {
    static func android(
        apps: [[String: Any]] = [["id": "com.whatsapp", "source": "PLAY_STORE"]], inventoryVersion: Int = 1, complete: Bool = true,
        removed: [String]? = nil, usbDebugging: Bool = false, patchLevel: String = "2026-11-01"
    ) -> [String: Any] {
        var inventory: [String: Any] = ["inventoryVersion": inventoryVersion, "complete": complete, "installed": apps]
        if let removed { inventory["removed"] = removed }
        return [
            "schemaVersion": 1,
            "agent": ["mode": "EMBEDDED", "version": "1.0.0"],
            "device": ["platform": "ANDROID", "osVersion": "16", "securityPatchLevel": patchLevel, "apiLevel": 36, "model": "Pixel 9"],
            "posture": ["passcodeSet": true, "storageEncrypted": true, "usbDebuggingEnabled": usbDebugging],
            "apps": inventory,
        ]
    }

    static var stalkerware: [String: Any] { ["id": "com.apspy.app", "source": "SIDELOADED"] }
}
