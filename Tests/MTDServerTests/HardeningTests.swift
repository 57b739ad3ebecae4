import BuiltinUEM
import FluentKit
import Foundation
import MTDCore
@testable import MTDServer
import MTDStore
import Testing

/// Input that used to trap or corrupt: out-of-range numbers, unreadable bodies, concurrent writes,
/// and a stored policy that no longer loads.
@Suite(.serialized) struct HardeningTests {
    /// First-start secrets go to a file only the server's user can read, not to the log.
    @Test func firstStartSecretsGoToAPrivateFile() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("openmtd-secrets-\(UUID().uuidString)").path
        try await withServer(.sqlite, dataDirectory: folder, adjust: { $0.adminPassword = nil; $0.uemAdminPassword = nil }) { server in
            let file = URL(fileURLWithPath: folder).appendingPathComponent(FirstStartSecrets.fileName).path
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            #expect(FirstStartSecrets.value("enrollment_code", dataDirectory: folder) == server.enrollmentCode)
            let password = try #require(FirstStartSecrets.value("owner_password", dataDirectory: folder))
            #expect(password.count >= 20)
            _ = try await server.login(password: password)
            let tenant = try #require(FirstStartSecrets.value("uem_tenant_code", dataDirectory: folder))
            #expect(tenant == (try await TenantCode.first(on: server.app.db)))
            #expect(FirstStartSecrets.value("uem_password", dataDirectory: folder) != nil)
        }
    }

    @Test func pageWindowRefusesWhatWouldOverflow() throws {
        let window = try PageWindow(page: 3, size: 50, sizeParameter: "pageSize", defaultSize: 50, maximumSize: 500)
        #expect(window.range == 150..<200)
        #expect(throws: OutOfBounds.self) { try PageWindow(page: 4_611_686_018_427_387_903, size: 50, sizeParameter: "pageSize", defaultSize: 50, maximumSize: 500) }
        #expect(throws: OutOfBounds.self) { try PageWindow(page: Int.max, size: nil, sizeParameter: "pageSize", defaultSize: 50, maximumSize: 500) }
        #expect(throws: OutOfBounds.self) { try PageWindow(page: -1, size: 50, sizeParameter: "pageSize", defaultSize: 50, maximumSize: 500) }
        #expect(throws: OutOfBounds.self) { try PageWindow(page: 0, size: 0, sizeParameter: "pageSize", defaultSize: 50, maximumSize: 500) }
        #expect(throws: OutOfBounds.self) { try PageWindow(page: 0, size: 501, sizeParameter: "pageSize", defaultSize: 50, maximumSize: 500) }
        let capped = try PageWindow(pageText: "2", sizeText: "99999999999", sizeParameter: "pagesize", defaultSize: 500, maximumSize: 10_000, clampSize: true)
        #expect(capped.size == 10_000 && capped.offset == 20_000)
        do {
            _ = try PageWindow(pageText: "99999999999999999999999", sizeText: nil, sizeParameter: "pagesize", defaultSize: 500, maximumSize: 10_000)
            Issue.record("a page beyond Int must be refused")
        } catch {
            #expect(error.parameter == "page")
        }
        // Every page the bounds allow has an offset that fits, at every allowed size.
        for size in [1, 7, 50, 500, 10_000] {
            let last = try PageWindow(page: PageWindow.maximumOffset / size, size: size, sizeParameter: "s", defaultSize: 1, maximumSize: 10_000)
            #expect(last.range.upperBound <= PageWindow.maximumOffset + size)
        }
    }

    @Test(arguments: TestDatabase.available)
    func outOfRangeNumbersGet400NamingTheParameter(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let owner = try await server.login()
            for path in ["/api/v1/threats", "/api/v1/devices"] {
                var reply = try await server.send(.GET, "\(path)?page=4611686018427387903", token: owner)
                #expect(reply.status == 400, "\(path): \(reply.text)")
                #expect(reply.errorField == "page")
                reply = try await server.send(.GET, "\(path)?page=-1", token: owner)
                #expect(reply.status == 400 && reply.errorField == "page")
                reply = try await server.send(.GET, "\(path)?pageSize=0", token: owner)
                #expect(reply.status == 400 && reply.errorField == "pageSize")
                reply = try await server.send(.GET, "\(path)?page=99999999999999999999999", token: owner)
                #expect(reply.status == 400, "\(reply.text)")
                #expect(try await server.send(.GET, "\(path)?page=2&pageSize=10", token: owner).status == 200)
            }
            var reply = try await server.send(.GET, "/api/v1/events?after=-5", token: owner)
            #expect(reply.status == 400 && reply.errorField == "after")
            reply = try await server.send(.GET, "/api/v1/events?limit=1000000", token: owner)
            #expect(reply.status == 400 && reply.errorField == "limit")
            reply = try await server.send(.POST, "/api/v1/tokens", token: owner, json: ["name": "forever", "expiresInDays": Int.max])
            #expect(reply.status == 400 && reply.errorField == "$.expiresInDays", "\(reply.text)")

            var browser = ConsoleHTTPTests.Browser(server: server)
            _ = try await browser.login("owner@example.com", server.ownerPassword)
            for path in ["/console/threats", "/console/devices", "/console/apps", "/console/audit"] {
                let page = try await browser.send(.GET, "\(path)?page=4611686018427387903")
                #expect(page.status == 400, "\(path): \(page.status)")
            }
            // The server is still alive and serving.
            #expect(try await server.send(.GET, "/healthz").status == 200)
            #expect(try await server.send(.GET, "/api/v1/threats", token: owner).status == 200)
        }
    }

    @Test(arguments: TestDatabase.available)
    func enrollmentCodeBodyThatCannotBeReadIsRefused(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let owner = try await server.login()
            var reply = try await server.send(.POST, "/api/v1/enrollment-codes", token: owner, json: ["expiresAt": "tomorrow"])
            #expect(reply.status == 400, "\(reply.text)")
            #expect(reply.errorField == "$.expiresAt", "\(reply.text)")
            reply = try await server.send(.POST, "/api/v1/enrollment-codes", token: owner, body: Data("{not json".utf8))
            #expect(reply.status == 400)
            // The code in force is unchanged by the refused requests.
            let codes = try await server.send(.GET, "/api/v1/enrollment-codes", token: owner)
            #expect((try JSONSerialization.jsonObject(with: codes.body) as? [Any])?.count == 1)
            // No body still means a code that does not expire; a real date is kept.
            reply = try await server.send(.POST, "/api/v1/enrollment-codes", token: owner)
            #expect(reply.status == 201, "\(reply.text)")
            reply = try await server.send(.POST, "/api/v1/enrollment-codes", token: owner, json: ["expiresAt": "2099-01-01T00:00:00Z"])
            #expect(reply.status == 201, "\(reply.text)")
            #expect((reply.json["expiresAt"] as? String)?.hasPrefix("2099-01-01") == true)
        }
    }

    @Test(arguments: TestDatabase.available)
    func concurrentPolicySavesAllSucceed(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let owner = try await server.login()
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let severity = index.isMultiple(of: 2) ? "HIGH" : "MEDIUM"
                        return try await server.send(.PUT, "/api/v1/policy", token: owner, json: ["severities": ["VIRUS": severity]]).status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
            let versions = try await server.send(.GET, "/api/v1/policy/versions", token: owner)
            let numbers = ((try JSONSerialization.jsonObject(with: versions.body) as? [[String: Any]]) ?? []).compactMap { $0["version"] as? Int }
            #expect(numbers.sorted() == Array(1...20))
        }
    }

    @Test(arguments: TestDatabase.available)
    func aStoredPolicyThatNoLongerLoadsKeepsTheLastGoodOne(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let owner = try await server.login()
            var reply = try await server.send(.PUT, "/api/v1/policy", token: owner, json: ["severities": ["USB_DEBUGGING_ENABLED": "HIGH"]])
            #expect(reply.status == 200, "\(reply.text)")
            // A version this build cannot read (written by a newer release, or by hand).
            let broken = PolicyVersionModel()
            broken.enterpriseID = server.enterpriseID
            broken.version = 2
            broken.document = #"{"severities":{"USB_DEBUGGING_ENABLED":"EXTREME"}}"#
            broken.createdBy = "someone@example.com"
            try await broken.create(on: server.app.db)
            let loaded = try await server.app.mtd.policies.current(for: server.enterpriseID, on: server.app.db, fresh: true)
            #expect(loaded.version == 1)

            let agent = try await server.activate(udid: "policy-fallback")
            reply = try await server.checkIn(agent, Documents.android(usbDebugging: true))
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.json["policyVersion"] as? Int == 1)
            #expect(reply.json["securityStatus"] as? String == "THREATS_HIGH")

            reply = try await server.send(.GET, "/healthz")
            #expect(reply.status == 200)
            #expect(reply.json["status"] as? String == "degraded")
            let problem = try #require((reply.json["policy"] as? [[String: Any]])?.first)
            #expect(problem["rejectedVersion"] as? Int == 2 && problem["servingVersion"] as? Int == 1)

            var browser = ConsoleHTTPTests.Browser(server: server)
            _ = try await browser.login("owner@example.com", server.ownerPassword)
            let page = try await browser.send(.GET, "/console")
            #expect(page.text.contains("id=\"policy-problem\""))
            #expect(page.text.contains("Policy version 2 cannot be used"))

            let audit = try await server.send(.GET, "/api/v1/audit?limit=1000", token: owner)
            #expect(audit.text.contains("CLASSIFICATION_POLICY_REJECTED"), "\(audit.text)")

            // A corrected policy clears the problem everywhere.
            reply = try await server.send(.PUT, "/api/v1/policy", token: owner, json: ["severities": ["USB_DEBUGGING_ENABLED": "MEDIUM"]])
            #expect(reply.json["version"] as? Int == 3)
            reply = try await server.send(.GET, "/healthz")
            #expect(reply.json["status"] as? String == "ok")
            #expect(!(try await browser.send(.GET, "/console")).text.contains("policy-problem"))
        }
    }
}
