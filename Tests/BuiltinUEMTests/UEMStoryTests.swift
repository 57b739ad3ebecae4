import AsyncHTTPClient
import BuiltinUEM
import FluentPostgresDriver
import Foundation
import MTDIntel
import MTDServer
import NIOCore
import NIOHTTP1
import TestSupport
import Testing
import SQLKit
import Vapor

/// The databases built-in UEM tests run on; PostgreSQL when OPENMTD_TEST_POSTGRES_URL is set (`.ci/run` sets it).
enum UEMTestDatabase: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    static let postgresURL = ProcessInfo.processInfo.environment["OPENMTD_TEST_POSTGRES_URL"]
    /// Without OPENMTD_TEST_POSTGRES_URL the PostgreSQL cases are left out and
    /// `UEMPostgreSQLAvailability` is reported as skipped; under CI=true they stay in and fail.
    static let available: [UEMTestDatabase] = postgresURL != nil || Prerequisite.inCI ? allCases : [.sqlite]
    var testDescription: String { rawValue }

    /// Creates an empty database on the test PostgreSQL server and returns its URL.
    static func freshPostgresDatabase(named name: String) async throws -> String {
        guard let base = postgresURL else { try Prerequisite.missing("PostgreSQL: set OPENMTD_TEST_POSTGRES_URL (see .ci/run)") }
        let app = try await Application.make(Environment(name: "testing", arguments: ["vapor"]))
        app.logger.logLevel = .warning
        app.databases.use(try .postgres(url: base), as: .psql)
        do {
            let sql = try #require(app.db as? any SQLDatabase)
            try await sql.raw("DROP DATABASE IF EXISTS \(unsafeRaw: name) WITH (FORCE)").run()
            try await sql.raw("CREATE DATABASE \(unsafeRaw: name)").run()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
        let slash = try #require(base.range(of: "/", options: .backwards))
        return String(base[..<slash.lowerBound]) + "/" + name
    }
}

enum Shipped {
    static let intelligence: ThreatIntelligence? = try? IntelligenceLoader.load()
}

/// The built-in UEM mounted in a real server, reached over HTTP with Workspace ONE's auth.
final class UEMServer: @unchecked Sendable {
    let app: Application
    let baseURL: String
    let client: HTTPClient
    var tenantCode = ""

    init(app: Application, baseURL: String, client: HTTPClient = HTTPClient(eventLoopGroupProvider: .singleton)) {
        self.app = app
        self.baseURL = baseURL
        self.client = client
    }

    static let adminPassword = "uem-admin-password-1"

    static func start(_ database: UEMTestDatabase = .sqlite, adjust: (inout ServerConfiguration) -> Void = { _ in }) async throws -> UEMServer {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.adminPassword = "owner-password-1234"
        configuration.uemAdminPassword = adminPassword
        configuration.connectUEMAtStart = false
        // Tests reach nothing but this machine, whatever URL a test gives the server.
        configuration.egressAllow = ["127.0.0.0/8", "::1", "localhost"]
        configuration.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("openmtd-uem-\(UUID().uuidString)").path
        if database == .postgres {
            configuration.databaseURL = try await UEMTestDatabase.freshPostgresDatabase(named: "openmtd_u_" + String(UUID().uuidString.prefix(8)).lowercased())
        }
        adjust(&configuration)
        let app = try await Application.make(Environment(name: "testing", arguments: ["vapor"]))
        app.logger.logLevel = .warning
        do {
            try await configure(app, configuration, intelligence: try #require(Shipped.intelligence), evaluationClock: .starting(at: TestCalendar.documentsWritten))
            try await app.startup()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        let port = try #require(app.http.server.shared.localAddress?.port)
        let server: UEMServer
        if let certificate = configuration.tlsCertificatePath {
            // HTTPS: a client that trusts exactly the test certificate.
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(certificate)
            tls.certificateVerification = .noHostnameVerification
            server = UEMServer(app: app, baseURL: "https://127.0.0.1:\(port)",
                               client: HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls)))
        } else {
            server = UEMServer(app: app, baseURL: "http://127.0.0.1:\(port)")
        }
        // The tenant code is printed at first start; tests read it from the database like an admin reads the log.
        server.tenantCode = try await TenantCode.first(on: app.db)
        return server
    }

    func stop() async throws {
        try await client.shutdown()
        try await app.asyncShutdown()
    }

    struct Reply {
        var status: Int
        var body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func send(_ method: NIOHTTP1.HTTPMethod, _ path: String, user: String = "uemadmin", password: String = UEMServer.adminPassword,
              tenant: String? = nil, json: Any? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "aw-tenant-code", value: tenant ?? tenantCode)
        request.headers.add(name: "Authorization", value: "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
        request.headers.add(name: "Accept", value: "application/json;version=1")
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: json)))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        return Reply(status: Int(response.status.code), body: Data(buffer: try await response.body.collect(upTo: 16 * 1024 * 1024)))
    }

    /// A request with exactly these headers: no tenant code or credentials unless given.
    func sendRaw(_ method: NIOHTTP1.HTTPMethod, _ path: String, headers: [String: String], body: Data?) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(data: body)) }
        let response = try await client.execute(request, timeout: .seconds(30))
        return Reply(status: Int(response.status.code), body: Data(buffer: try await response.body.collect(upTo: 16 * 1024 * 1024)))
    }
}

/// Shows up as skipped when the PostgreSQL cases of the UEM tests are left out.
struct UEMPostgreSQLAvailability {
    @Test(.enabled(if: UEMTestDatabase.postgresURL != nil || Prerequisite.inCI, "OPENMTD_TEST_POSTGRES_URL is not set: the PostgreSQL cases of the UEM tests do not run"))
    func uemTestsRunOnPostgreSQL() async throws {
        let uem = try await UEMServer.start(.postgres)
        let reply = try await uem.send(.GET, "/API/system/info")
        try await uem.stop()
        #expect(reply.status == 200, "\(reply.text)")
    }
}

@Suite(.serialized) struct UEMStoryTests {
    /// The seed article's access-control story on the UEM side: an API role and account for the MTD,
    /// risk tags, a High Risk smart group on the tag, and the Tunnel profile excluded for that group.
    @Test(arguments: UEMTestDatabase.available) func highRiskTagRemovesTheTunnelProfileAndGivesItBack(_ database: UEMTestDatabase) async throws {
        let uem = try await UEMServer.start(database)
        do {
            // The admin creates the role of the seed article and the MTD's API account.
            var reply = try await uem.send(.POST, "/API/system/roles", json: ["Name": "MTD API", "Permissions": [
                "Admins": "Read", "Apps": "Read", "Devices": "Read", "Groups": "Read", "Users": "Read", "BulkManagement": "Edit", "Tags": "Edit",
            ]])
            #expect(reply.status == 201, "\(reply.text)")
            let roleID = try #require((reply.json["Id"] as? [String: Any])?["Value"] as? Int)
            reply = try await uem.send(.POST, "/API/system/admins/addadmin", json: ["UserName": "mtd_api", "Password": "mtd-api-password-1", "RoleId": roleID])
            #expect(reply.status == 201, "\(reply.text)")
            let mtd = (user: "mtd_api", password: "mtd-api-password-1")

            // The MTD connects: Admins Read is enough to look itself up; Groups Edit is not granted.
            reply = try await uem.send(.GET, "/api/SYSTEM/admins/search?username=mtd_api", user: mtd.user, password: mtd.password)
            #expect(reply.status == 200, "case-insensitive paths: \(reply.text)")
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", user: mtd.user, password: mtd.password, json: ["Name": "x"])
            #expect(reply.status == 403)
            #expect(reply.json["errorCode"] as? Int == 1001)

            // A device enrolls; the admin builds the smart groups and the Tunnel profile.
            reply = try await uem.send(.POST, "/API/mdm/devices/enroll", json: [
                "Udid": "udid-1", "SerialNumber": "SN1", "Platform": "Apple", "Model": "iPhone16,1", "OperatingSystem": "26.6.1",
                "Ownership": "C", "UserName": "jo", "UserEmailAddress": "jo@example.com",
            ])
            #expect(reply.status == 201, "\(reply.text)")
            let deviceID = try #require((reply.json["Id"] as? [String: Any])?["Value"] as? Int)
            reply = try await uem.send(.POST, "/API/mdm/tags/addtag", user: mtd.user, password: mtd.password, json: ["TagName": "MTD – High Risk", "TagType": 1])
            let tagID = try #require(reply.json["Value"] as? Int)
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "All Apple", "Platforms": ["Apple"]])
            let allGroup = try #require(reply.json["SmartGroupID"] as? Int)
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "MTD High Risk", "Tags": [["Id": tagID]]])
            let riskGroup = try #require(reply.json["SmartGroupID"] as? Int)
            reply = try await uem.send(.POST, "/API/mdm/profiles", json: ["Name": "Workspace ONE Tunnel", "AssignedSmartGroups": [allGroup], "ExcludedSmartGroups": [riskGroup]])
            #expect(reply.status == 201, "\(reply.text)")
            #expect(try await profiles(uem, deviceID) == ["Workspace ONE Tunnel"])

            // The MTD tags the device High Risk (one bulk call, with a fault for an unknown id): the profile goes.
            reply = try await uem.send(.POST, "/API/mdm/tags/\(tagID)/adddevices", user: mtd.user, password: mtd.password,
                                       json: ["BulkValues": ["Value": ["\(deviceID)", "999999"]]])
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.json["AcceptedItems"] as? Int == 1)
            #expect(reply.json["FailedItems"] as? Int == 1)
            #expect(((reply.json["Faults"] as? [String: Any])?["Fault"] as? [[String: Any]])?.first?["ItemValue"] as? String == "999999")
            #expect(try await profiles(uem, deviceID).isEmpty)
            reply = try await uem.send(.GET, "/API/mdm/smartgroups/\(riskGroup)/devices")
            #expect((reply.json["Devices"] as? [[String: Any]])?.count == 1)
            reply = try await uem.send(.GET, "/API/mdm/tags/\(tagID)/devices", user: mtd.user, password: mtd.password)
            #expect(((reply.json["Device"] as? [[String: Any]])?.first?["DeviceId"] as? Int) == deviceID)

            // The threat resolves: the tag is removed and the profile comes back.
            reply = try await uem.send(.POST, "/API/v1/mdm/tags/\(tagID)/removedevices", user: mtd.user, password: mtd.password,
                                       json: ["BulkValues": ["Value": ["\(deviceID)"]]])
            #expect(reply.json["AcceptedItems"] as? Int == 1)
            #expect(try await profiles(uem, deviceID) == ["Workspace ONE Tunnel"])
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }

    @Test(arguments: UEMTestDatabase.available) func workspaceOneConventions(_ database: UEMTestDatabase) async throws {
        let uem = try await UEMServer.start(database)
        do {
            var reply = try await uem.send(.GET, "/API/mdm/devices/search", tenant: "WRONG")
            #expect(reply.status == 403)
            #expect(reply.json["errorCode"] as? Int == 1013)
            #expect(reply.json["activityId"] is String)
            reply = try await uem.send(.GET, "/API/mdm/devices/search", password: "wrong-password")
            #expect(reply.status == 401)
            #expect(reply.json["errorCode"] as? Int == 1005)
            reply = try await uem.send(.GET, "/API/mdm/devices/search")
            #expect(reply.status == 204, "an empty search answers 204 with no body")
            #expect(reply.body.isEmpty)
            for index in 0..<3 {
                _ = try await uem.send(.POST, "/API/mdm/devices/enroll", json: ["Udid": "u\(index)", "Platform": index == 2 ? "Android" : "Apple", "UserName": "user\(index)"])
            }
            reply = try await uem.send(.GET, "/API/mdm/devices/search?page=1&pagesize=2")
            #expect(reply.json["Page"] as? Int == 1)
            #expect(reply.json["PageSize"] as? Int == 2)
            #expect(reply.json["Total"] as? Int == 3)
            #expect((reply.json["Devices"] as? [Any])?.count == 1)
            reply = try await uem.send(.GET, "/API/mdm/devices/search?platform=Android")
            #expect(reply.json["Total"] as? Int == 1)
            reply = try await uem.send(.GET, "/API/mdm/devices/424242")
            #expect(reply.status == 404)
            #expect(reply.json["errorCode"] as? Int == 5061)
            reply = try await uem.send(.POST, "/API/mdm/tags/addtag", json: ["TagName": "MTD – Pending"])
            #expect(reply.status == 200)
            reply = try await uem.send(.POST, "/API/mdm/tags/addtag", json: ["TagName": "MTD – Pending"])
            #expect(reply.status == 400)
            reply = try await uem.send(.GET, "/API/mdm/tags/search?name=Pending")
            #expect(((reply.json["Tags"] as? [[String: Any]])?.first?["TagName"] as? String) == "MTD – Pending")
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }

    func profiles(_ uem: UEMServer, _ deviceID: Int) async throws -> [String] {
        let reply = try await uem.send(.GET, "/API/mdm/devices/\(deviceID)/profiles")
        if reply.status == 204 { return [] }
        return (reply.json["DeviceProfiles"] as? [[String: Any]])?.compactMap { $0["Name"] as? String } ?? []
    }
}
