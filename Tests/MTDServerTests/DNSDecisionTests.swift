import Foundation
import Testing

/// `GET /api/v1/dns/decision`: the resolver's decision under the enterprise's policy in force, and a
/// device's side of it (token state, whether its query is reported), over real HTTP.
@Suite(.serialized) struct DNSDecisionTests {
    @Test func theServerExplainsADecisionUnderItsPolicyAndForADevice() async throws {
        try await withServer(.sqlite) { server in
            let owner = try await server.login()
            let agent = try await server.activate(udid: "decision-1")
            let phishing = "login.000.9.009.09.ekurbani.com"

            var reply = try await server.send(.GET, "/api/v1/dns/decision?name=\(phishing)&device=\(agent.deviceID)", token: owner)
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.json["action"] as? String == "BLOCK")
            #expect(reply.json["classification"] as? String == "PHISHING_CONTENT")
            #expect(reply.json["indicator"] as? String == "000.9.009.09.ekurbani.com")
            #expect(reply.json["source"] as? String == "blocklistproject:phishing")
            #expect((reply.json["extendedError"] as? [String: Any])?["code"] as? Int == 17)
            #expect((reply.json["answer"] as? String)?.hasPrefix("NXDOMAIN") == true)
            #expect(reply.json["resolverRunning"] as? Bool == false)
            var device = try #require(reply.json["device"] as? [String: Any], "\(reply.text)")
            #expect(device["resolverToken"] as? String == "ACTIVE")
            #expect(device["reported"] as? Bool == true)
            #expect(device["threat"] == nil, "no query yet, so no threat")

            // The policy in force decides: a new version's deny list and allow list count at once.
            let policy = try await server.send(.GET, "/api/v1/policy", token: owner)
            var document = try #require(policy.json["policy"] as? [String: Any], "\(policy.text)")
            document["contentDenyList"] = ["casino.example"]
            var dns = document["protectiveDNS"] as? [String: Any] ?? [:]
            dns["allowList"] = ["ekurbani.com"]
            dns["blockedAnswer"] = "NULL_ADDRESS"
            document["protectiveDNS"] = dns
            reply = try await server.send(.PUT, "/api/v1/policy", token: owner, json: document)
            #expect(reply.status == 200, "\(reply.text)")
            reply = try await server.send(.GET, "/api/v1/dns/decision?name=\(phishing)", token: owner)
            #expect(reply.json["action"] as? String == "ALLOW", "\(reply.text)")
            #expect(reply.json["allowedBy"] as? String == "ekurbani.com")
            #expect(reply.json["device"] == nil)
            reply = try await server.send(.GET, "/api/v1/dns/decision?name=www.casino.example&type=AAAA", token: owner)
            #expect(reply.json["classification"] as? String == "DENYLISTED_CONTENT", "\(reply.text)")
            #expect((reply.json["extendedError"] as? [String: Any])?["code"] as? Int == 15)
            #expect((reply.json["answer"] as? String)?.hasPrefix("NOERROR with ::") == true, "\(reply.text)")
            #expect(reply.json["policyVersion"] as? Int == 1, "the first saved version")

            // A deactivated device's token is revoked: its queries are no longer its own.
            let deactivated = try await server.send(.POST, "/api/v1/devices/\(agent.deviceID)/deactivate", token: owner)
            #expect(deactivated.status < 300, "\(deactivated.text)")
            reply = try await server.send(.GET, "/api/v1/dns/decision?name=www.casino.example&device=\(agent.deviceID)", token: owner)
            device = try #require(reply.json["device"] as? [String: Any], "\(reply.text)")
            #expect(device["resolverToken"] as? String == "REVOKED")
            #expect(device["reported"] as? Bool == false)

            // Read-only admins may ask (it shows the policy, not what a device looked up).
            reply = try await server.send(.POST, "/api/v1/admins", token: owner, json: ["email": "viewer@example.com", "password": "viewer-password-1", "role": "read-only"])
            #expect(reply.status == 201, "\(reply.text)")
            let viewer = try await server.login("viewer@example.com", password: "viewer-password-1")
            reply = try await server.send(.GET, "/api/v1/dns/decision?name=example.org", token: viewer)
            #expect(reply.status == 200 && reply.json["action"] as? String == "ALLOW", "\(reply.text)")
        }
    }

    @Test func badQueriesNameTheParameter() async throws {
        try await withServer(.sqlite) { server in
            let owner = try await server.login()
            for (query, field) in [("", "name"), ("?name=", "name"), ("?name=a..b", "name"), ("?name=\(String(repeating: "a", count: 64)).com", "name"),
                                   ("?name=example.com&type=BOGUS", "type"), ("?name=example.com&device=not-a-uuid", "device")] {
                let reply = try await server.send(.GET, "/api/v1/dns/decision\(query)", token: owner)
                #expect(reply.status == 400, "\(query): \(reply.text)")
                #expect(reply.errorField == field, "\(query): \(reply.text)")
            }
            let reply = try await server.send(.GET, "/api/v1/dns/decision?name=example.com&device=\(UUID().uuidString)", token: owner)
            #expect(reply.status == 404, "\(reply.text)")
        }
    }
}
