import FluentKit
import Foundation
import MobileRiskAPI
@testable import MTDServer
import MTDStore
import SQLKit
import TestSupport
import Testing
import Vapor

/// The Lookout-compatible Mobile Risk API over real HTTP, on SQLite and PostgreSQL: application keys
/// and tokens, scopes and enterprise isolation, every parameter spelling, paging, the rate limit,
/// and the event stream read by an independent client (sseclient-py).
@Suite(.serialized) struct MobileRiskAPITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// sseclient-py and urllib3 (`.ci/run` installs them); without them the stream tests are
    /// reported as skipped (a failure under CI=true).
    static let sseClientAvailable: Bool = {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import sseclient, urllib3"]
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }()

    // MARK: helpers

    struct Credentials {
        var admin: String
        var key: String
        var token: String
    }

    static func credentials(_ server: TestServer, scopes: [String] = ["events", "devices", "threats", "os-vulns"]) async throws -> Credentials {
        let admin = try await server.login()
        let created = try await server.send(.POST, "/api/v1/application-keys", token: admin, json: ["name": "SIEM", "scopes": scopes])
        #expect(created.status == 201, "\(created.text)")
        let key = try #require(created.json["key"] as? String)
        let token = try await Self.token(server, key: key)
        return Credentials(admin: admin, key: key, token: try #require(token.json["access_token"] as? String))
    }

    static func token(_ server: TestServer, key: String, body: String = "grant_type=client_credentials", accept: String = "application/json") async throws -> TestServer.Reply {
        try await server.sendRaw(.POST, "/oauth2/token", headers: [
            "Authorization": "Bearer \(key)", "Content-Type": "application/x-www-form-urlencoded", "Accept": accept,
        ], body: Data(body.utf8))
    }

    static func get(_ server: TestServer, _ path: String, token: String) async throws -> TestServer.Reply {
        try await server.sendRaw(.GET, path, headers: ["Authorization": "Bearer \(token)"], body: nil)
    }

    struct Frame: Decodable {
        var event: String?
        var id: String?
        var data: String?
        var retry: String?
        var status: Int?
        var content_type: String?
        var cache_control: String?
        var accel: String?
        var closed: Bool?
        var ended: String?
        var at: Double?
    }

    /// Runs the independent SSE client against the stream and returns its frames.
    static func stream(_ server: TestServer, query: String, token: String, events: Int = 0, until: String = "", seconds: Double = 10,
                       whileRunning: (@Sendable () async throws -> Void)? = nil) async throws -> [Frame] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent("Tests/MobileRisk/sse_client.py").path, "collect",
                             server.baseURL + "/mra/stream/v2/events" + query, token,
                             "--events", String(events), "--until", until, "--seconds", String(seconds)]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        if let whileRunning { try await whileRunning() }
        let data = await Task.detached { output.fileHandleForReading.readDataToEndOfFile() }.value
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(String(decoding: data, as: UTF8.self))")
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
            try JSONDecoder().decode(Frame.self, from: Data(line.utf8))
        }
    }

    static func eventIDs(_ frames: [Frame]) throws -> [String] {
        try frames.filter { $0.event == "events" }.flatMap { frame -> [String] in
            let object = try #require(try JSONSerialization.jsonObject(with: Data((frame.data ?? "").utf8)) as? [String: Any])
            let events = try #require(object["events"] as? [[String: Any]], "data is an object with the key events")
            return events.compactMap { $0["id"] as? String }
        }
    }

    /// Devices whose check-ins open and resolve threats, to fill the log.
    static func churn(_ server: TestServer, devices: Int, rounds: Int) async throws {
        var agents: [TestServer.Agent] = []
        for index in 0..<devices { agents.append(try await server.activate(udid: "mra-\(index)-\(UUID().uuidString.prefix(6))")) }
        for round in 0..<rounds {
            for agent in agents {
                let apps: [[String: Any]] = round % 2 == 0 ? [["id": "com.whatsapp", "source": "PLAY_STORE"], Documents.stalkerware] : [["id": "com.whatsapp", "source": "PLAY_STORE"]]
                let reply = try await server.checkIn(agent, Documents.android(apps: apps, inventoryVersion: round + 1))
                #expect(reply.status == 200, "\(reply.text)")
            }
        }
    }

    // MARK: keys and tokens

    @Test(arguments: TestDatabase.available)
    func applicationKeysBuyAccessTokensUntilRevoked(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let admin = try await server.login()
            let created = try await server.send(.POST, "/api/v1/application-keys", token: admin, json: ["name": "Splunk", "scopes": ["events", "threats"]])
            #expect(created.status == 201)
            let key = try #require(created.json["key"] as? String)
            let id = try #require(created.json["id"] as? String)
            let expires = try #require(created.json["expiresAt"] as? String)
            #expect(expires.hasPrefix("2027-") || expires.hasPrefix("2028-"), "a year from now: \(expires)")
            #expect((created.json["scopes"] as? [String])?.sorted() == ["events", "threats"])

            // The list shows times and use, never the key.
            var list = try await server.send(.GET, "/api/v1/application-keys", token: admin)
            #expect(list.status == 200)
            #expect(!list.text.contains(key))
            #expect(list.text.contains("\"lastUsedAt\"") == false || !list.text.contains("lastUsedAt\":\"2"))

            // Any Accept, form body: the Lookout token answer.
            let issued = try await Self.token(server, key: key, accept: "*/*")
            #expect(issued.status == 200, "\(issued.text)")
            let expiresIn = try #require(issued.json["expires_in"] as? Int)
            #expect(expiresIn > 300 && expiresIn <= 7200)
            let expiresAt = try #require(issued.json["expires_at"] as? Int64)
            #expect(abs(Double(expiresAt) / 1000 - Date().addingTimeInterval(Double(expiresIn)).timeIntervalSince1970) < 60, "epoch milliseconds")
            #expect(issued.json["token_type"] as? String == "Bearer")
            #expect(issued.json["scope"] is String)
            let token = try #require(issued.json["access_token"] as? String)
            #expect(issued.headers.first(name: "Cache-Control")?.contains("no-store") == true)
            list = try await server.send(.GET, "/api/v1/application-keys", token: admin)
            #expect(list.text.contains("lastUsedAt"))

            // Wrong keys and wrong grants, in RFC 6749 form.
            let wrong = try await Self.token(server, key: "omtd_ak_not-a-key")
            #expect(wrong.status == 401)
            #expect(wrong.json["error"] as? String == "invalid_client")
            #expect(wrong.json["error_description"] is String)
            let grant = try await Self.token(server, key: key, body: "grant_type=password")
            #expect(grant.status == 400)
            #expect(grant.json["error"] as? String == "unsupported_grant_type")
            let missing = try await Self.token(server, key: key, body: "")
            #expect(missing.status == 400)
            #expect(missing.json["error"] as? String == "invalid_request")
            let scope = try await Self.token(server, key: key, body: "grant_type=client_credentials&scope=devices")
            #expect(scope.status == 400)
            #expect(scope.json["error"] as? String == "invalid_scope")
            let noAuth = try await server.sendRaw(.POST, "/oauth2/token", headers: ["Content-Type": "application/x-www-form-urlencoded"], body: Data("grant_type=client_credentials".utf8))
            #expect(noAuth.status == 401)

            // Tokens work, then stop with the key's revocation.
            #expect(try await Self.get(server, "/mra/api/v2/threats", token: token).status == 200)
            let revoked = try await server.send(.DELETE, "/api/v1/application-keys/\(id)", token: admin)
            #expect(revoked.status == 204)
            let after = try await Self.get(server, "/mra/api/v2/threats", token: token)
            #expect(after.status == 401)
            #expect(after.json["error"] as? String == "invalid_token")
            let again = try await Self.token(server, key: key)
            #expect(again.status == 401)
            #expect(again.json["error"] as? String == "invalid_client")
            list = try await server.send(.GET, "/api/v1/application-keys", token: admin)
            #expect(list.text.contains("\"revoked\""))

            // Creation is checked and audited.
            let badScope = try await server.send(.POST, "/api/v1/application-keys", token: admin, json: ["name": "x", "scopes": ["everything"]])
            #expect(badScope.status == 400)
            #expect(badScope.text.contains("scopes"))
            let noName = try await server.send(.POST, "/api/v1/application-keys", token: admin, json: ["name": " ", "scopes": ["events"]])
            #expect(noName.status == 400)
            let audit = try await server.send(.GET, "/api/v1/audit?limit=1000", token: admin)
            #expect(audit.text.contains("APPLICATION_KEY"))
            #expect(!audit.text.contains(key))
        }
    }

    @Test func accessTokensExpire() async throws {
        try await withServer(.sqlite, adjust: { $0.mobileRisk.keys.tokenLifetime = 1 }) { server in
            let asked = Date()
            let credentials = try await Self.credentials(server)
            let answered = Date()
            // The boundary is checked at fixed times (a loaded machine can take over a second for the
            // round trip); the expired token is then refused over HTTP.
            let keys = server.app.mtd.mobileRisk.keys
            _ = try await keys.authenticate(token: credentials.token, now: asked.addingTimeInterval(0.5), on: server.app.db)
            await #expect(throws: (any Error).self) {
                try await keys.authenticate(token: credentials.token, now: answered.addingTimeInterval(1.01), on: server.app.db)
            }
            try await Task.sleep(nanoseconds: UInt64(max(0, answered.addingTimeInterval(1.5).timeIntervalSinceNow) * 1e9))
            let expired = try await Self.get(server, "/mra/api/v2/devices", token: credentials.token)
            #expect(expired.status == 401)
            #expect(expired.json["error_description"] as? String == "the access token expired; get a new one from POST /oauth2/token")
        }
    }

    @Test func expiryWarningsGoOutOnLookoutsSchedule() async throws {
        try await withServer(.sqlite, adjust: { $0.mobileRisk.keys.keyLifetime = 40 * 86_400 }) { server in
            _ = try await Self.credentials(server)
            let keys = server.app.mtd.mobileRisk.keys
            let created = Date()
            // 40-day key: nothing due before 30 days are left, then each threshold once.
            #expect(try await keys.dueWarnings(now: created.addingTimeInterval(5 * 86_400), on: server.app.db).isEmpty)
            #expect(try await keys.dueWarnings(now: created.addingTimeInterval(10.5 * 86_400), on: server.app.db).map(\.days) == [30])
            #expect(try await keys.dueWarnings(now: created.addingTimeInterval(11 * 86_400), on: server.app.db).isEmpty)
            #expect(try await keys.dueWarnings(now: created.addingTimeInterval(33.5 * 86_400), on: server.app.db).map(\.days) == [7])
            #expect(try await keys.dueWarnings(now: created.addingTimeInterval(38.5 * 86_400), on: server.app.db).map(\.days) == [2])
            let audit = try await server.send(.GET, "/api/v1/audit?limit=1000", token: try await server.login())
            #expect(audit.text.contains("expires_in_days"))
        }
    }

    @Test func keysAboutToExpireShowABannerOnEveryConsolePage() async throws {
        try await withServer(.sqlite, adjust: { $0.mobileRisk.keys.keyLifetime = 20 * 86_400 }) { server in
            var browser = ConsoleHTTPTests.Browser(server: server)
            _ = try await browser.login("owner@example.com", server.ownerPassword)
            var page = try await browser.send(.GET, "/console/devices")
            #expect(!page.text.contains("keys-expiring"))
            _ = try await Self.credentials(server)
            for path in ["/console", "/console/devices", "/console/application-keys"] {
                page = try await browser.send(.GET, path)
                #expect(page.text.contains("id=\"keys-expiring\""), "\(path)")
                #expect(page.text.contains("1 application key expires within 30 days"), "\(path)")
            }
            let metrics = try await server.send(.GET, "/metrics")
            #expect(metrics.text.contains("openmtd_application_keys_expiring"))
        }
    }

    // MARK: scopes, isolation, parameters

    @Test(arguments: TestDatabase.available)
    func scopesAndEnterprisesKeepDataApart(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let ours = try await Self.credentials(server)
            let eventsOnly = try await Self.credentials(server, scopes: ["events"])
            _ = try await server.activate(udid: "ours-1")
            let denied = try await Self.get(server, "/mra/api/v2/devices", token: eventsOnly.token)
            #expect(denied.status == 403)
            #expect(denied.json["error"] as? String == "insufficient_scope")
            #expect(try await Self.get(server, "/mra/api/v2/events", token: eventsOnly.token).status == 200)

            // Another enterprise's key sees none of our devices or events.
            let other = try await AuthorizationTableTests.otherEnterprise(server)
            let otherOwner = try await server.login("other-owner@example.com", password: "other-password-123")
            let created = try await server.send(.POST, "/api/v1/application-keys", token: otherOwner, json: ["name": "theirs", "scopes": ["events", "devices"]])
            let theirKey = try #require(created.json["key"] as? String)
            let theirToken = try #require(try await Self.token(server, key: theirKey).json["access_token"] as? String)
            _ = try await server.activate(udid: "theirs-1", code: other.code)
            let ourDevices = try await Self.get(server, "/mra/api/v2/devices", token: ours.token)
            let theirDevices = try await Self.get(server, "/mra/api/v2/devices", token: theirToken)
            #expect(ourDevices.json["count"] as? Int == 1)
            #expect(theirDevices.json["count"] as? Int == 1)
            #expect(ourDevices.text != theirDevices.text)
            let theirEvents = try await Self.get(server, "/mra/api/v2/events?limit=1000", token: theirToken)
            #expect(!theirEvents.text.contains(server.enterpriseID.uuidString.lowercased()))
            #expect(theirEvents.text.contains(other.id.uuidString.lowercased()))
        }
    }

    @Test func everyParameterSpellingAndDegenerateValue() async throws {
        try await withServer(.sqlite) { server in
            let credentials = try await Self.credentials(server)
            let token = credentials.token
            // REST: empty values are absent; bad ones name the parameter.
            for path in ["/mra/api/v2/devices?limit=&oid=", "/mra/api/v2/devices?platform=&security_status=&state=",
                         "/mra/api/v2/events?types=&type=&oid=&start_time=", "/mra/api/v2/events?type=THREAT,DEVICE",
                         "/mra/api/v2/events?types=audit&start_time=2026-11-30T00:00:00", "/mra/api/v2/events?start_time=2026-11-30T00:00:00%2B01:00",
                         "/mra/api/v2/threats?timeframe=LAST_30_DAYS&status=open", "/mra/api/v2/pcp-threats"] {
                let reply = try await Self.get(server, path, token: token)
                #expect(reply.status == 200, "\(path): \(reply.status) \(reply.text)")
            }
            let bad: [(String, String)] = [
                ("/mra/api/v2/devices?limit=0", "limit"), ("/mra/api/v2/devices?limit=1001", "limit"), ("/mra/api/v2/devices?limit=abc", "limit"),
                ("/mra/api/v2/devices?oid=-1", "oid"), ("/mra/api/v2/devices?oid=99999999999999999999999", "oid"),
                ("/mra/api/v2/devices?platform=WINDOWS", "platform"), ("/mra/api/v2/devices?updated_since=yesterday", "updated_since"),
                ("/mra/api/v2/events?types=FOO", "types"), ("/mra/api/v2/events?type=FOO", "type"), ("/mra/api/v2/events?start_time=soon", "start_time"),
                ("/mra/api/v2/events?oid=not-an-id", "oid"), ("/mra/api/v2/threats?timeframe=LAST_9999_DAYS", "timeframe"),
                ("/mra/api/v2/threat", "guid"), ("/mra/api/v2/threat?guid=nope", "guid"), ("/mra/api/v2/device", "guid"),
            ]
            for (path, parameter) in bad {
                let reply = try await Self.get(server, path, token: token)
                #expect(reply.status == 400, "\(path): \(reply.status) \(reply.text)")
                #expect(reply.json["parameter"] as? String == parameter, "\(path): \(reply.text)")
                #expect(reply.json["error"] as? String == "invalid_request")
            }
            let none = try await Self.get(server, "/mra/api/v2/device?guid=\(UUID().uuidString)", token: token)
            #expect(none.status == 404)
            let noThreat = try await Self.get(server, "/mra/api/v2/threat?guid=\(UUID().uuidString)", token: token)
            #expect(noThreat.status == 404)

            // One device by each of its names.
            let agent = try await server.activate(udid: "named-device", externalID: "ext-42")
            for query in ["guid=\(agent.deviceID)", "customer_device_id=ext-42"] {
                let reply = try await Self.get(server, "/mra/api/v2/device?\(query)", token: token)
                #expect(reply.status == 200, "\(query): \(reply.text)")
                #expect((reply.json["guid"] as? String)?.lowercased() == agent.deviceID.lowercased())
                #expect(reply.json["platform"] as? String == "ANDROID")
                #expect(reply.json["activation_status"] as? String == "ACTIVATED")
                #expect(reply.json["security_status"] as? String == "SECURE")
                #expect(reply.json["protection_status"] as? String == "PROTECTED")
                #expect((reply.json["activated_at"] as? String)?.hasSuffix("+00:00") == true)
                #expect(reply.json["software"] is [String: Any] && reply.json["hardware"] is [String: Any] && reply.json["details"] is [String: Any])
            }
        }
    }

    @Test(arguments: TestDatabase.available)
    func pagingThrough2500DevicesWithOid(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let credentials = try await Self.credentials(server)
            // Rows straight into the table (activating 2,500 phones over HTTP is not what this tests).
            try await server.app.db.transaction { tx in
                for index in 0..<2_500 {
                    let device = DeviceModel()
                    device.id = UUID()
                    device.$enterprise.id = server.enterpriseID
                    device.udid = "page-\(index)"
                    device.platform = index % 3 == 0 ? "IOS" : "ANDROID"
                    device.activationStatus = .activated
                    device.connectionStatus = .connected
                    device.securityStatus = .secure
                    device.revision = 1
                    try await device.create(on: tx)
                }
            }
            var seen = Set<String>()
            var oid = ""
            var pages = 0
            var lastOID = 0
            while true {
                let reply = try await Self.get(server, "/mra/api/v2/devices?limit=1000&oid=\(oid)", token: credentials.token)
                #expect(reply.status == 200, "\(reply.text.prefix(300))")
                let devices = try #require(reply.json["devices"] as? [[String: Any]])
                #expect(reply.json["count"] as? Int == devices.count)
                pages += 1
                for device in devices {
                    let current = try #require(device["oid"] as? Int)
                    #expect(current > lastOID && current > 0, "oids increase, never 0")
                    lastOID = current
                    seen.insert(try #require(device["guid"] as? String))
                }
                if devices.count < 1000 { break }
                oid = String(lastOID)
            }
            #expect(seen.count == 2_500)
            #expect(pages == 3)
            let ios = try await Self.get(server, "/mra/api/v2/devices?limit=1000&platform=ios", token: credentials.token)
            #expect(ios.json["count"] as? Int == 834)
        }
    }

    @Test func theRateLimitAnswers429WithRetryAfter() async throws {
        try await withServer(.sqlite, adjust: { $0.mobileRisk.requestsPerMinute = 5 }) { server in
            let credentials = try await Self.credentials(server)
            var statuses: [Int] = []
            var retryAfter: String?
            for _ in 0..<7 {
                let reply = try await Self.get(server, "/mra/api/v2/devices", token: credentials.token)
                statuses.append(reply.status)
                if reply.status == 429 {
                    retryAfter = reply.headers.first(name: "Retry-After")
                    #expect(reply.json["error"] as? String == "rate_limited")
                }
            }
            #expect(statuses.prefix(5).allSatisfy { $0 == 200 }, "\(statuses)")
            #expect(statuses.last == 429, "\(statuses)")
            #expect(Int(retryAfter ?? "") ?? 0 >= 1)
        }
    }

    @Test func osVulnerabilitiesComeFromTheShippedCatalog() async throws {
        try await withServer(.sqlite) { server in
            let token = try await Self.credentials(server).token
            let android = try await Self.get(server, "/mra/api/v2/os-vulns/android?aspl=2021-01-01&severity=7.5", token: token)
            #expect(android.status == 200, "\(android.text.prefix(300))")
            #expect((android.json["count"] as? Int ?? 0) > 0, "CISA KEV lists exploited Android bugs since 2021")
            let newer = try await Self.get(server, "/mra/api/v2/os-vulns/android?aspl=2099-01-01", token: token)
            #expect(newer.json["count"] as? Int == 0)

            let ios = try await Self.get(server, "/mra/api/v2/os-vulns/ios?version=17.0", token: token)
            #expect(ios.status == 200, "\(ios.text.prefix(300))")
            let found = try #require(ios.json["vulnerabilities"] as? [[String: Any]])
            #expect(!found.isEmpty, "iOS 17.0 has exploited CVEs fixed by later 17.x releases (SOFA covers 17, 18 and 26)")
            let cve = try #require(found.first?["name"] as? String)
            #expect(found.first?["fixed_in"] is String)
            let detail = try await Self.get(server, "/mra/api/v2/os-vulns/cve?name=\(cve.lowercased())", token: token)
            #expect(detail.status == 200)
            #expect((detail.json["ios_fixed_in"] as? [String])?.isEmpty == false)
            #expect(try await Self.get(server, "/mra/api/v2/os-vulns/cve?name=CVE-1999-00001", token: token).status == 404)

            // The devices it still reaches: an iPhone on 17.0, not one on the newest release.
            let old = try await server.activate(udid: "old-iphone", platform: "IOS")
            let current = try await server.activate(udid: "new-iphone", platform: "IOS")
            let versions = try await Self.get(server, "/mra/api/v2/os-vulns/os-versions", token: token)
            let cycles = try #require(versions.json["os_versions"] as? [[String: Any]])
            #expect(cycles.contains { $0["platform"] as? String == "ANDROID" } && cycles.contains { $0["platform"] as? String == "IOS" })
            let newest = try #require(cycles.last { $0["platform"] as? String == "IOS" && $0["latest_version"] is String }?["latest_version"] as? String)
            for (agent, version) in [(old, "17.0"), (current, newest)] {
                let reply = try await server.checkIn(agent, [
                    "schemaVersion": 1, "agent": ["mode": "EMBEDDED", "version": "1.0.0"],
                    "device": ["platform": "IOS", "osVersion": version, "model": "iPhone15,2"], "posture": ["passcodeSet": true],
                ])
                #expect(reply.status == 200, "\(reply.text)")
            }
            let exposed = try await Self.get(server, "/mra/api/v2/os-vulns/devices?name=\(cve)", token: token)
            #expect(exposed.status == 200, "\(exposed.text.prefix(300))")
            let listed = exposed.json["devices"] as? [[String: Any]] ?? []
            let guids = listed.compactMap { $0["guid"] as? String }
            #expect(guids == [old.deviceID.lowercased()], "\(guids)")
            // The device says which release of its major is the newest.
            let software = listed.first?["software"] as? [String: Any]
            #expect((software?["latest_os_version"] as? String)?.hasPrefix("17.") == true, "\(String(describing: software))")

            for (path, parameter) in [("/mra/api/v2/os-vulns/android", "aspl"), ("/mra/api/v2/os-vulns/android?aspl=soon", "aspl"),
                                      ("/mra/api/v2/os-vulns/android?aspl=2024-01-01&severity=11", "severity"),
                                      ("/mra/api/v2/os-vulns/ios", "version"), ("/mra/api/v2/os-vulns/ios?version=seventeen", "version"),
                                      ("/mra/api/v2/os-vulns/cve?name=CVE-24-1", "name"), ("/mra/api/v2/os-vulns/devices", "name")] {
                let reply = try await Self.get(server, path, token: token)
                #expect(reply.status == 400, "\(path): \(reply.text)")
                #expect(reply.json["parameter"] as? String == parameter, "\(path): \(reply.text)")
            }
        }
    }

    // MARK: the stream

    @Test(.enabled(if: sseClientAvailable || Prerequisite.inCI, "sseclient-py or urllib3 is missing (see .ci/run)"), arguments: TestDatabase.available)
    func theStreamResumesExactlyOnceAcrossAReconnect(_ database: TestDatabase) async throws {
        guard Self.sseClientAvailable else { try Prerequisite.missing("sseclient-py or urllib3 is missing (see .ci/run)") }
        try await withServer(database) { server in
            let credentials = try await Self.credentials(server)
            try await Self.churn(server, devices: 6, rounds: 4)
            let all = try await Self.get(server, "/mra/api/v2/events?limit=1000&types=THREAT,DEVICE", token: credentials.token)
            let expected = (all.json["events"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(expected.count > 20)
            #expect(expected == expected.sorted(), "ids sort in log order")

            // From the start of the day, stop part way, resume with the last id seen.
            let first = try await Self.stream(server, query: "?types=THREAT,DEVICE&start_time=2020-01-01T00:00:00Z", token: credentials.token, events: 5)
            let head = try #require(first.first)
            #expect(head.status == 200)
            #expect(head.content_type == "text/event-stream")
            #expect(head.cache_control == "no-cache")
            #expect(head.accel == "no")
            let firstIDs = try Self.eventIDs(first)
            let lastID = try #require(first.last(where: { $0.event == "events" })?.id)
            #expect(lastID == firstIDs.last, "the frame's id is its last event's id")
            // More events while the client is away.
            try await Self.churn(server, devices: 2, rounds: 2)
            let later = try await Self.get(server, "/mra/api/v2/events?limit=1000&types=THREAT,DEVICE", token: credentials.token)
            let expectedAll = (later.json["events"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            let second = try await Self.stream(server, query: "?type=THREAT,DEVICE&last_id=\(lastID)", token: credentials.token,
                                               events: expectedAll.count - firstIDs.count)
            let secondIDs = try Self.eventIDs(second)
            #expect(firstIDs + secondIDs == expectedAll, "every event once, in order")
            // Frames from the second connection are all events of the filter.
            for frame in second where frame.event == "events" {
                #expect(frame.data?.contains("\"type\":\"AUDIT\"") == false)
            }
            // Resume values real clients send mean "no resume point": 200 and live events only.
            for query in ["?id=0", "?id=", "?id=None", "?last_id=", ""] {
                let frames = try await Self.stream(server, query: query, token: credentials.token, until: "heartbeat", seconds: 8)
                #expect(frames.first?.status == 200, "\(query)")
                #expect(frames.contains { $0.event == "heartbeat" && $0.id != nil }, "\(query): heartbeats carry an id")
            }
            // An id this server never gave: from the oldest event, and noted in the audit log.
            let unknown = try await Self.stream(server, query: "?id=01969f85-f6d8-73bd-bcbc-a38948f21386", token: credentials.token, events: 3)
            #expect(unknown.first?.status == 200)
            #expect(try Self.eventIDs(unknown).first == EventStreamID.encode(1))
            let audit = try await server.send(.GET, "/api/v1/audit?limit=1000", token: credentials.admin)
            #expect(audit.text.contains("EVENT_STREAM"))
        }
    }

    /// Two replicas on one database: a token bought from one works on the other, a stream on one
    /// gets what commits through the other, and a client resumes on the other exactly where it was.
    @Test(.enabled(if: sseClientAvailable || Prerequisite.inCI, "sseclient-py or urllib3 is missing (see .ci/run)"), arguments: TestDatabase.available)
    func anyReplicaServesTheStreamAndItsResume(_ database: TestDatabase) async throws {
        guard Self.sseClientAvailable else { try Prerequisite.missing("sseclient-py or urllib3 is missing (see .ci/run)") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("openmtd-mra-replicas-\(UUID().uuidString)").path
        try await withServer(database, dataDirectory: folder) { first in
            let credentials = try await Self.credentials(first)
            try await withServer(database, dataDirectory: folder, keepData: true) { second in
                #expect(try await Self.get(second, "/mra/api/v2/devices", token: credentials.token).status == 200)
                let live = try await Self.stream(first, query: "?types=DEVICE", token: credentials.token, events: 1, seconds: 20) {
                    try await Task.sleep(nanoseconds: 1_500_000_000)
                    _ = try await second.activate(udid: "via-second")
                }
                let seen = try Self.eventIDs(live)
                #expect(seen.count == 1, "the activation through the other replica reached this stream")
                #expect(live.contains { ($0.data ?? "").contains("via-second") })
                let last = try #require(live.last { $0.event == "events" }?.id)
                _ = try await first.activate(udid: "via-first")
                let resumed = try await Self.stream(second, query: "?types=DEVICE&id=\(last)", token: credentials.token, events: 1, seconds: 20)
                let resumedIDs = try Self.eventIDs(resumed)
                #expect(resumedIDs.count == 1 && Set(resumedIDs).isDisjoint(with: seen), "\(seen) then \(resumedIDs)")
                #expect(resumed.contains { ($0.data ?? "").contains("via-first") })
            }
        }
    }

    @Test(.enabled(if: sseClientAvailable || Prerequisite.inCI, "sseclient-py or urllib3 is missing (see .ci/run)"))
    func idleStreamsGetHeartbeatsAndLiveEventsAndReconnectAtShutdown() async throws {
        guard Self.sseClientAvailable else { try Prerequisite.missing("sseclient-py or urllib3 is missing (see .ci/run)") }
        try await withServer(.sqlite) { server in
            let credentials = try await Self.credentials(server)
            let hub = server.app.mtd.mobileRisk.hub
            // The client reads until `reconnect`; its own budget only stops a stream that never sends
            // one, so it is far longer than the choreography below, which a loaded CI machine stretches.
            let frames = try await Self.stream(server, query: "", token: credentials.token, until: "reconnect", seconds: 60) {
                // Idle for two heartbeat periods, then a live event, then shutdown.
                try await Task.sleep(nanoseconds: 11_000_000_000)
                _ = try await server.activate(udid: "live-one")
                try await Task.sleep(nanoseconds: 2_000_000_000)
                await hub.close()
            }
            // The fan-out runs on the consumer runner, in every replica: its lag is in /metrics.
            let metrics = try await server.send(.GET, "/metrics")
            #expect(metrics.text.contains("mra-stream-fanout"))
            let heartbeats = frames.filter { $0.event == "heartbeat" }
            #expect(heartbeats.count >= 3, "one at once and one every 5 s: \(heartbeats.count)")
            #expect(heartbeats.allSatisfy { $0.data == "{}" && $0.id != nil })
            #expect(frames.contains { $0.event == "events" && ($0.data ?? "").contains("\"type\":\"DEVICE\"") })
            // The stream's last frame is `reconnect`, with a retry delay.
            let named = frames.compactMap { frame in frame.event.map { ($0, frame.retry) } }
            let timeline = frames.map { "\($0.event ?? ($0.ended.map { "ended: \($0)" } ?? ($0.closed == true ? "closed" : "headers"))) at \($0.at.map { String(format: "%.2f", $0) } ?? "-")" }
            #expect(named.last?.0 == "reconnect", "\(timeline)")
            #expect(named.last?.1 == "1000", "\(timeline)")
        }
    }

    @Test(.enabled(if: sseClientAvailable || Prerequisite.inCI, "sseclient-py or urllib3 is missing (see .ci/run)"))
    func aClientThatStopsReadingIsCutOffNotBuffered() async throws {
        guard Self.sseClientAvailable else { try Prerequisite.missing("sseclient-py or urllib3 is missing (see .ci/run)") }
        try await withServer(.sqlite, adjust: { $0.mobileRisk.writeTimeoutSeconds = 2 }) { server in
            let credentials = try await Self.credentials(server)
            // 20 MB of events in the log, far more than the socket buffers hold.
            let padding = String(repeating: "x", count: 1_000)
            for _ in 0..<20 {
                let entries = (0..<1_000).map { _ in
                    EventLog.Entry(enterpriseID: server.enterpriseID, createdAt: Date(), event: EventLog.NewEvent(
                        type: .audit, change: .updated, actor: .system, target: EventParty(type: "ENTERPRISE", guid: nil),
                        payload: AuditPayload(type: "LOAD", changes: [.init(name: "padding", to: padding)])))
                }
                try await server.app.db.transaction { tx in try await EventLog.append(entries, on: tx) }
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", Self.root.appendingPathComponent("Tests/MobileRisk/sse_client.py").path, "stall",
                                 server.baseURL + "/mra/stream/v2/events?start_time=2020-01-01", credentials.token, "--seconds", "20"]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            // While the client reads nothing, the server fills the socket, waits its 2 s and gives up:
            // the stream is gone from the hub before the client reads a byte.
            let hub = server.app.mtd.mobileRisk.hub
            var opened = false
            var gaveUp = false
            for _ in 0..<190 where !gaveUp {
                let open = await hub.openStreamCount
                if open > 0 { opened = true } else if opened { gaveUp = true }
                if !gaveUp { try await Task.sleep(nanoseconds: 100_000_000) }
            }
            #expect(opened && gaveUp, "the server closed the stream of a client that stopped reading")
            let data = await Task.detached { output.fileHandleForReading.readDataToEndOfFile() }.value
            process.waitUntilExit()
            let result = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(String(decoding: data, as: UTF8.self))")
            #expect(result["closed_by_server"] as? Bool == true, "\(result)")
            #expect((result["bytes"] as? Int ?? 0) < 15_000_000, "the server gave up instead of sending everything: \(result)")
        }
    }

    @Test func theOpenAPIDocumentCoversEveryRoute() async throws {
        try await withServer(.sqlite) { server in
            let reply = try await server.send(.GET, "/mra/openapi.json")
            #expect(reply.status == 200)
            let paths = try #require(reply.json["paths"] as? [String: [String: Any]])
            for route in server.app.routes.all {
                let components = route.path.map(\.description)
                guard components.first == "mra" || components.first == "oauth2" else { continue }
                let path = "/" + components.joined(separator: "/")
                #expect(paths[path]?[route.method.rawValue.lowercased()] != nil, "\(route.method.rawValue) \(path) is missing from /mra/openapi.json")
            }
        }
    }
}
