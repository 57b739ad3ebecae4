import Foundation
@testable import MTDServer
import Testing

@Suite(.serialized) struct AdminAPITests {
    @Test(arguments: TestDatabase.available)
    func rolesAndScopesAreEnforced(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let owner = try await server.login()
            var reply = try await server.send(.POST, "/api/v1/admins", token: owner, json: ["email": "viewer@example.com", "password": "viewer-password-1", "role": "read-only"])
            #expect(reply.status == 201, "\(reply.text)")
            let viewer = try await server.login("viewer@example.com", password: "viewer-password-1")
            #expect(try await server.send(.GET, "/api/v1/policy", token: viewer).status == 200)
            reply = try await server.send(.PUT, "/api/v1/policy", token: viewer, json: ["severities": ["VIRUS": "HIGH"]])
            #expect(reply.status == 403)
            #expect(reply.errorCode == "forbidden")

            reply = try await server.send(.POST, "/api/v1/tokens", token: owner, json: ["name": "siem", "scopes": ["read"]])
            #expect(reply.status == 201)
            let readToken = try #require(reply.json["token"] as? String)
            #expect(try await server.send(.GET, "/api/v1/devices", token: readToken).status == 200)
            #expect(try await server.send(.PUT, "/api/v1/policy", token: readToken, json: [:] as [String: Any]).status == 403)

            #expect(try await server.send(.GET, "/api/v1/devices").status == 401)
            #expect(try await server.send(.GET, "/api/v1/devices", token: "mtds_forged").status == 401)
            #expect(try await server.send(.POST, "/api/v1/auth/login", json: ["email": "owner@example.com", "password": "wrong"]).status == 401)
            #expect(try await server.send(.POST, "/api/v1/auth/logout", token: viewer).status == 204)
            #expect(try await server.send(.GET, "/api/v1/devices", token: viewer).status == 401)
        }
    }

    @Test(arguments: TestDatabase.available)
    func enterprisesAreIsolated(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            // Through the server's single writer, as the server itself writes (a second SQLite writer
            // beside the consumers gets "database is locked").
            let db = server.app.db
            let other = try await server.app.mtd.writes.run {
                try await EnterpriseProvisioning.create(name: "Other", ownerEmail: "boss@other.example", ownerPassword: "other-password-99", on: db)
            }
            let agentA = try await server.activate(udid: "shared-udid")
            _ = try await server.checkIn(agentA, Documents.android(apps: [Documents.stalkerware]))
            let agentB = try await server.activate(udid: "shared-udid", code: other.enrollmentCode)
            #expect(agentA.deviceID != agentB.deviceID, "the same UDID in two enterprises is two devices")

            let ownerA = try await server.login()
            let ownerB = try await server.login("boss@other.example", password: "other-password-99")
            let listB = try await server.send(.GET, "/api/v1/devices", token: ownerB)
            #expect((listB.json["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [agentB.deviceID])
            #expect(try await server.send(.GET, "/api/v1/devices/\(agentA.deviceID)", token: ownerB).status == 404)
            let threatsA = try await server.send(.GET, "/api/v1/threats", token: ownerA)
            let threatID = try #require((threatsA.json["items"] as? [[String: Any]])?.first?["id"] as? String)
            #expect(try await server.send(.POST, "/api/v1/threats/\(threatID)/ignore", token: ownerB, json: ["reason": "not mine"]).status == 404)
            #expect((try await server.send(.GET, "/api/v1/threats", token: ownerB).json["total"] as? Int) == 0)
            #expect(try await server.events(ownerB).allSatisfy { $0["enterprise_guid"] as? String == other.enterpriseID.uuidString.lowercased() })

            // A device credential only ever touches its own device.
            _ = try await server.checkIn(agentB, Documents.android(usbDebugging: true))
            let detailA = try await server.send(.GET, "/api/v1/devices/\(agentA.deviceID)", token: ownerA)
            #expect(((detailA.json["device"] as? [String: Any])?["securityStatus"] as? String) == "THREATS_HIGH")
            #expect(((detailA.json["threats"] as? [[String: Any]]) ?? []).allSatisfy { $0["classification"] as? String != "USB_DEBUGGING_ENABLED" })
        }
    }

    @Test(arguments: TestDatabase.available)
    func badInputGetsAClearJSONError(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let owner = try await server.login()
            let agent = try await server.activate(udid: "udid-bad")
            var document = Documents.android()
            document["device"] = ["platform": "WINDOWS", "osVersion": "11"]
            var reply = try await server.checkIn(agent, document)
            #expect(reply.status == 400)
            #expect(reply.errorField == "$.device.platform")
            reply = try await server.send(.POST, "/agent/v1/checkin", token: agent.credential, body: Data("{not json".utf8))
            #expect(reply.status == 400)
            #expect(reply.errorField == "$")
            reply = try await server.send(.POST, "/agent/v1/checkin", token: agent.credential, body: Data(repeating: 32, count: 5 * 1024 * 1024))
            #expect(reply.status == 413)
            #expect(reply.errorCode == "payload_too_large")
            reply = try await server.send(.POST, "/agent/v1/checkin", body: try JSONSerialization.data(withJSONObject: Documents.android()))
            #expect(reply.status == 401)
            reply = try await server.send(.PUT, "/api/v1/policy", token: owner, json: ["severities": ["ROOT_JAILBRAKE": "HIGH"]])
            #expect(reply.status == 400)
            #expect(reply.errorField == "$.severities.ROOT_JAILBRAKE")
            reply = try await server.send(.PUT, "/api/v1/policy", token: owner, json: ["disallowedCloudServices": ["Dropbx"]])
            #expect(reply.status == 400)
            #expect(reply.errorField == "$.disallowedCloudServices[0]")
            reply = try await server.send(.GET, "/api/v1/devices?platform=WINDOWS", token: owner)
            #expect(reply.status == 400)
            reply = try await server.send(.POST, "/agent/v1/activate", json: ["enrollmentCode": "XXXX-XXXX-XXXX", "platform": "IOS", "mode": "EMBEDDED", "udid": "x"])
            #expect(reply.status == 403)
            #expect(reply.errorCode == "invalid_enrollment_code")
            reply = try await server.send(.POST, "/agent/v1/activate", json: ["enrollmentCode": server.enrollmentCode, "platform": "IOS", "mode": "EMBEDDED"])
            #expect(reply.status == 400)
            #expect(reply.errorField == "$.udid")
            reply = try await server.send(.POST, "/api/v1/threats/not-a-uuid/ignore", token: owner, json: ["reason": "x"])
            #expect(reply.status == 404)
        }
    }

    @Test(arguments: TestDatabase.available)
    func policyChangesReevaluateTheFleet(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let owner = try await server.login()
            let agent = try await server.activate(udid: "udid-policy")
            var reply = try await server.checkIn(agent, Documents.android(usbDebugging: true))
            #expect(reply.json["securityStatus"] as? String == "THREATS_LOW")
            reply = try await server.send(.PUT, "/api/v1/policy", token: owner, json: ["severities": ["USB_DEBUGGING_ENABLED": "HIGH"]])
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.json["version"] as? Int == 1)
            var status = ""
            // Re-evaluation is a background consumer; beside the whole suite on two cores it has taken over 5 s.
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                let detail = try await server.send(.GET, "/api/v1/devices/\(agent.deviceID)", token: owner)
                status = (detail.json["device"] as? [String: Any])?["securityStatus"] as? String ?? ""
                if status == "THREATS_HIGH" { break }
                try await Task.sleep(nanoseconds: 100_000_000)
            }
            #expect(status == "THREATS_HIGH", "re-evaluation applies the new severity without a check-in")
            let versions = try await server.send(.GET, "/api/v1/policy/versions", token: owner)
            #expect(versions.text.contains("owner@example.com"))
            let audit = try await server.send(.GET, "/api/v1/audit", token: owner)
            #expect(audit.text.contains("CLASSIFICATION_POLICY"))
            reply = try await server.send(.PUT, "/api/v1/policy", token: owner, body: Data("severities:\n  USB_DEBUGGING_ENABLED: NONE\n".utf8), contentType: "application/yaml")
            #expect(reply.json["version"] as? Int == 2)
            #expect(try await server.checkIn(agent, Documents.android(usbDebugging: true)).json["securityStatus"] as? String == "SECURE")
        }
    }

    @Test(arguments: TestDatabase.available)
    func ignoredThreatsStayIgnoredAndEveryActionIsAudited(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let owner = try await server.login()
            let agent = try await server.activate(udid: "udid-ignore")
            _ = try await server.checkIn(agent, Documents.android(usbDebugging: true))
            let threats = try await server.send(.GET, "/api/v1/threats?status=OPEN&classification=USB_DEBUGGING_ENABLED", token: owner)
            let threatID = try #require((threats.json["items"] as? [[String: Any]])?.first?["id"] as? String)
            #expect(try await server.send(.POST, "/api/v1/threats/\(threatID)/ignore", token: owner, json: ["reason": " "]).errorField == "$.reason")
            let head = try await server.eventHead(owner)
            var reply = try await server.send(.POST, "/api/v1/threats/\(threatID)/ignore", token: owner, json: ["reason": "lab device"])
            #expect(reply.status == 200)
            #expect(reply.json["status"] as? String == "IGNORED")
            let types = try await server.events(owner, after: head).compactMap { $0["type"] as? String }.sorted()
            #expect(types == ["AUDIT", "DEVICE", "THREAT"])
            #expect(try await server.checkIn(agent, Documents.android(usbDebugging: true)).json["securityStatus"] as? String == "SECURE")
            #expect(try await server.send(.POST, "/api/v1/threats/\(threatID)/ignore", token: owner, json: ["reason": "again"]).status == 409)
            reply = try await server.send(.POST, "/api/v1/threats/\(threatID)/unignore", token: owner, json: ["reason": "lab is over"])
            #expect(reply.json["status"] as? String == "OPEN")
            #expect(try await server.checkIn(agent, Documents.android(usbDebugging: true)).json["securityStatus"] as? String == "THREATS_LOW")
        }
    }

    @Test(arguments: TestDatabase.available)
    func enrollmentCodesRotateRevokeAndLimitGuessing(_ database: TestDatabase) async throws {
        try await withServer(database, adjust: { $0.activationAttemptsPerMinute = 5 }) { server in
            let owner = try await server.login()
            var reply = try await server.send(.POST, "/api/v1/enrollment-codes", token: owner, json: [:] as [String: Any])
            #expect(reply.status == 201)
            let newCode = try #require(reply.json["code"] as? String)
            #expect((reply.json["hubCustomSettings"] as? String)?.contains(newCode) == true)
            reply = try await server.send(.POST, "/agent/v1/activate", json: ["enrollmentCode": server.enrollmentCode, "platform": "IOS", "mode": "EMBEDDED", "udid": "x1"])
            #expect(reply.status == 403)
            #expect(try await server.send(.GET, "/api/v1/audit", token: owner).text.contains("ACTIVATION_REJECTED"))
            _ = try await server.activate(udid: "x2", code: newCode.lowercased())
            // Activations with a valid code are not limited: a fleet behind one NAT address enrols freely.
            for index in 0..<10 { _ = try await server.activate(udid: "nat-\(index)", code: newCode) }

            // Failed attempts are: with 5 per minute, the fifth failure closes the door for a while.
            for _ in 0..<4 {
                _ = try await server.send(.POST, "/agent/v1/activate", json: ["enrollmentCode": "GUES-SING-XXXX", "platform": "IOS", "mode": "EMBEDDED", "udid": "x3"])
            }
            reply = try await server.send(.POST, "/agent/v1/activate", json: ["enrollmentCode": newCode, "platform": "IOS", "mode": "EMBEDDED", "udid": "x4"])
            #expect(reply.status == 429)
            #expect(reply.headers.first(name: "Retry-After") != nil)
        }
    }

    @Test(arguments: TestDatabase.available)
    func enrollmentCodesExpire(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let owner = try await server.login()
            let firstCode = server.enrollmentCode
            var reply: TestServer.Reply
            // A code with an expiry stops working when it expires.
            let soon = ISO8601DateFormatter().string(from: Date().addingTimeInterval(1.5))
            reply = try await server.send(.POST, "/api/v1/enrollment-codes", token: owner, json: ["expiresAt": soon])
            #expect(reply.status == 201, "\(reply.text)")
            let expiring = try #require(reply.json["code"] as? String)
            #expect(try await server.send(.POST, "/api/v1/enrollment-codes", token: owner, json: ["expiresAt": "2020-01-01T00:00:00Z"]).errorField == "$.expiresAt")
            try await Task.sleep(nanoseconds: 2_000_000_000)
            reply = try await server.send(.POST, "/agent/v1/activate", json: ["enrollmentCode": expiring, "platform": "IOS", "mode": "EMBEDDED", "udid": "x5"])
            #expect(reply.status == 403)
            #expect(reply.text.contains("expired"))
            #expect(try await server.send(.GET, "/api/v1/enrollment-codes", token: owner).text.contains(firstCode), "older codes stay listed, revoked")
        }
    }

    @Test(arguments: TestDatabase.available)
    func deviceListFiltersPagesAndExportsCSV(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let owner = try await server.login()
            for index in 0..<5 {
                let agent = try await server.activate(udid: "list-\(index)", platform: index < 3 ? "ANDROID" : "IOS")
                if index < 3 { _ = try await server.checkIn(agent, Documents.android(apps: index == 0 ? [Documents.stalkerware] : [])) }
            }
            var reply = try await server.send(.GET, "/api/v1/devices?platform=ANDROID&pageSize=2", token: owner)
            #expect(reply.json["total"] as? Int == 3)
            #expect((reply.json["items"] as? [Any])?.count == 2)
            reply = try await server.send(.GET, "/api/v1/devices?platform=ANDROID&pageSize=2&page=1", token: owner)
            #expect((reply.json["items"] as? [Any])?.count == 1)
            reply = try await server.send(.GET, "/api/v1/devices?classification=SURVEILLANCEWARE", token: owner)
            #expect((reply.json["items"] as? [[String: Any]])?.map { $0["udid"] as? String } == ["list-0"])
            reply = try await server.send(.GET, "/api/v1/devices?security=THREATS_HIGH", token: owner)
            #expect(reply.json["total"] as? Int == 1)
            reply = try await server.send(.GET, "/api/v1/devices?q=LIST-4", token: owner)
            #expect(reply.json["total"] as? Int == 1)
            reply = try await server.send(.GET, "/api/v1/devices?osVersion=16", token: owner)
            #expect(reply.json["total"] as? Int == 3)
            reply = try await server.send(.GET, "/api/v1/devices.csv?platform=IOS", token: owner)
            #expect(reply.headers.first(name: "Content-Type")?.hasPrefix("text/csv") == true)
            let lines = reply.text.split(separator: "\n")
            #expect(lines.count == 3)
            #expect(lines.first?.hasPrefix("id,external_id,udid,email") == true)
        }
    }

    @Test func operationsEndpointsAnswer() async throws {
        try await withServer(.sqlite) { server in
            let agent = try await server.activate(udid: "ops")
            _ = try await server.checkIn(agent, Documents.android())
            #expect(try await server.send(.GET, "/healthz").json["status"] as? String == "ok")
            let metrics = try await server.send(.GET, "/metrics").text
            #expect(metrics.contains("openmtd_checkins_total 1"))
            #expect(metrics.contains("openmtd_http_requests_total"))
            #expect(metrics.contains("openmtd_known_devices 1"))
            #expect(metrics.contains("openmtd_event_log_head"))
            let openapi = try await server.send(.GET, "/api/v1/openapi.json")
            #expect(openapi.json["openapi"] as? String == "3.1.0")
            // The document in the repository describes every route the server has.
            let documented = try #require(openapi.json["paths"] as? [String: [String: Any]])
            // The built-in UEM under /API (and its OAuth token endpoint, /connect/token) speaks Workspace
            // ONE's API, which this document does not describe; the console is HTML for people; the
            // Mobile Risk API (/mra, /oauth2) has a document of its own (MobileRiskAPITests).
            for route in server.app.routes.all where !["API", "connect", "console", "mra", "oauth2"].contains(route.path.first?.description ?? "") && !route.path.isEmpty {
                let path = "/" + route.path.map { component -> String in
                    let text = component.description
                    return text.hasPrefix(":") ? "{\(text.dropFirst())}" : text
                }.joined(separator: "/")
                #expect(documented[path]?[route.method.rawValue.lowercased()] != nil, "\(route.method.rawValue) \(path) is missing from openapi.json")
            }
        }
    }
}
