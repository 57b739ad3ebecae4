import Foundation
@testable import MTDServer
import MTDStore
import Testing

@Suite(.serialized) struct CheckInFlowTests {
    @Test(arguments: TestDatabase.available)
    func activationAndCheckInsOpenAndResolveThreats(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let admin = try await server.login()
            let agent = try await server.activate(udid: "udid-a")
            var head = try await server.eventHead(admin)

            // Clean device: no threat, one DEVICE event (first facts: model, OS, …).
            var reply = try await server.checkIn(agent, Documents.android())
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.json["securityStatus"] as? String == "SECURE")
            #expect(reply.json["nextCheckInSeconds"] as? Int == 900)
            var events = try await server.events(admin, after: head)
            #expect(events.map { $0["type"] as? String } == ["DEVICE"])
            head = try await server.eventHead(admin)

            // Stalkerware arrives in a delta: one THREAT CREATED and one DEVICE UPDATED (security status).
            reply = try await server.checkIn(agent, Documents.android(apps: [Documents.stalkerware], inventoryVersion: 2, complete: false))
            #expect(reply.json["securityStatus"] as? String == "THREATS_HIGH")
            #expect(reply.json["fullInventoryRequired"] as? Bool == false)
            events = try await server.events(admin, after: head)
            let kinds = events.map { "\($0["type"] as? String ?? "") \($0["change_type"] as? String ?? "")" }.sorted()
            #expect(kinds == ["DEVICE UPDATED", "THREAT CREATED", "THREAT CREATED"], "surveillanceware and sideloaded app")
            let threatEvent = try #require(events.first { ($0["threat"] as? [String: Any])?["classifications"] as? [String] == ["SURVEILLANCEWARE"] })
            let threat = try #require(threatEvent["threat"] as? [String: Any])
            #expect(threat["severity"] as? String == "HIGH")
            #expect(threat["device_guid"] as? String == agent.deviceID)
            #expect((threat["details"] as? [String: Any])?["label"] as? String == "TheTruthSpy")
            let device = try #require(events.first { $0["type"] as? String == "DEVICE" }?["device"] as? [String: Any])
            #expect((device["status"] as? [String: Any])?["security_status"] as? String == "THREATS_HIGH")
            #expect(device["changed_attributes"] as? [String] == ["security_status"])
            head = try await server.eventHead(admin)

            // The same facts again: nothing changes, nothing is appended.
            reply = try await server.checkIn(agent, Documents.android(apps: [Documents.stalkerware], inventoryVersion: 2, complete: false))
            #expect(reply.status == 200)
            #expect(try await server.events(admin, after: head).isEmpty)

            // Removed: both threats resolve, the device is secure again.
            reply = try await server.checkIn(agent, Documents.android(apps: [], inventoryVersion: 3, complete: false, removed: ["com.apspy.app"]))
            #expect(reply.json["securityStatus"] as? String == "SECURE")
            events = try await server.events(admin, after: head)
            #expect(events.filter { $0["type"] as? String == "THREAT" }.allSatisfy { ($0["threat"] as? [String: Any])?["status"] as? String == "RESOLVED" })
            #expect(events.count == 3)

            let detail = try await server.send(.GET, "/api/v1/devices/\(agent.deviceID)", token: admin)
            let threats = try #require(detail.json["threats"] as? [[String: Any]])
            #expect(threats.count == 2)
            #expect(threats.allSatisfy { $0["status"] as? String == "RESOLVED" })
            #expect(threats.allSatisfy { ($0["history"] as? [Any])?.count == 2 })
            #expect((detail.json["apps"] as? [[String: Any]])?.map { $0["id"] as? String } == ["com.whatsapp"])
        }
    }

    @Test(arguments: TestDatabase.available)
    func deltaThatSkipsAVersionAsksForTheFullInventory(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let agent = try await server.activate(udid: "udid-delta")
            var reply = try await server.checkIn(agent, Documents.android(inventoryVersion: 5))
            #expect(reply.json["fullInventoryRequired"] as? Bool == false)
            reply = try await server.checkIn(agent, Documents.android(apps: [Documents.stalkerware], inventoryVersion: 7, complete: false))
            #expect(reply.json["fullInventoryRequired"] as? Bool == true)
            #expect(reply.json["securityStatus"] as? String == "SECURE", "a delta that was not applied must not count")
            reply = try await server.checkIn(agent, Documents.android(apps: [["id": "com.whatsapp"], Documents.stalkerware], inventoryVersion: 7))
            #expect(reply.json["fullInventoryRequired"] as? Bool == false)
            #expect(reply.json["securityStatus"] as? String == "THREATS_HIGH")
        }
    }

    @Test(arguments: TestDatabase.available)
    func inventoryAtTheLargestVersionDoesNotStopTheServer(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let agent = try await server.activate(udid: "udid-max")
            var reply = try await server.checkIn(agent, Documents.android(inventoryVersion: Int.max))
            #expect(reply.status == 200, "\(reply.text)")
            // There is no version after Int.max: a delta cannot follow it, and a full inventory is asked for.
            reply = try await server.checkIn(agent, Documents.android(apps: [Documents.stalkerware], inventoryVersion: 0, complete: false))
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.json["fullInventoryRequired"] as? Bool == true)
            reply = try await server.checkIn(agent, Documents.android(apps: [Documents.stalkerware], inventoryVersion: 1))
            #expect(reply.json["securityStatus"] as? String == "THREATS_HIGH")
        }
    }

    @Test(arguments: TestDatabase.available)
    func reactivationRotatesTheCredentialAndDeactivationRevokesIt(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let admin = try await server.login()
            let first = try await server.activate(udid: "udid-r", externalID: "uem-1")
            let second = try await server.activate(udid: "udid-r", externalID: "uem-1")
            #expect(first.deviceID == second.deviceID)
            #expect(try await server.checkIn(first, Documents.android()).status == 401)
            #expect(try await server.checkIn(second, Documents.android()).status == 200)

            let head = try await server.eventHead(admin)
            let reply = try await server.send(.POST, "/agent/v1/deactivate", token: second.credential)
            #expect(reply.status == 204)
            let events = try await server.events(admin, after: head)
            #expect(events.count == 1)
            #expect(((events.first?["device"] as? [String: Any])?["status"] as? [String: Any])?["activation_status"] as? String == "DEACTIVATED")
            #expect(try await server.checkIn(second, Documents.android()).errorCode == "credential_revoked")
            let list = try await server.send(.GET, "/api/v1/devices?activation=DEACTIVATED", token: admin)
            #expect(list.json["total"] as? Int == 1)

            // An admin can deactivate a device too; the agent's credential stops working.
            let third = try await server.activate(udid: "udid-r", externalID: "uem-1")
            #expect(try await server.send(.POST, "/api/v1/devices/\(third.deviceID)/deactivate", token: admin).status == 204)
            #expect(try await server.checkIn(third, Documents.android()).status == 401)
        }
    }

    @Test(arguments: TestDatabase.available)
    func connectionStatusFollowsCheckInAgeWithOneEventPerTransition(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let admin = try await server.login()
            let agent = try await server.activate(udid: "udid-c")
            _ = try await server.checkIn(agent, Documents.android())
            let sweeper = server.app.mtd.sweeper
            var head = try await server.eventHead(admin)
            #expect(try await sweeper.sweep(on: server.app.db, now: Date().addingTimeInterval(3600)) == 0)
            #expect(try await sweeper.sweep(on: server.app.db, now: Date().addingTimeInterval(2 * 86_400)) == 1)
            #expect(try await sweeper.sweep(on: server.app.db, now: Date().addingTimeInterval(2 * 86_400)) == 0)
            var events = try await server.events(admin, after: head)
            #expect(events.count == 1)
            #expect(((events.first?["device"] as? [String: Any])?["status"] as? [String: Any])?["connection_status"] as? String == "UNREACHABLE")
            head = try await server.eventHead(admin)
            #expect(try await sweeper.sweep(on: server.app.db, now: Date().addingTimeInterval(8 * 86_400)) == 1)
            events = try await server.events(admin, after: head)
            #expect(((events.first?["device"] as? [String: Any])?["status"] as? [String: Any])?["connection_status"] as? String == "DISCONNECTED")
            #expect(((events.first?["device"] as? [String: Any])?["status"] as? [String: Any])?["protection_status"] as? String == "DISCONNECTED")
            head = try await server.eventHead(admin)
            _ = try await server.checkIn(agent, Documents.android())
            events = try await server.events(admin, after: head)
            #expect(events.count == 1)
            #expect((events.first?["device"] as? [String: Any])?["changed_attributes"] as? [String] == ["connection_status"])
        }
    }

    @Test(arguments: TestDatabase.available)
    func consumerCursorsAreDurable(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let db = server.app.db
            #expect(try await ConsumerCursors.position(of: "uem-sync", on: db) == 0)
            let head = try await EventLog.head(on: db)
            #expect(head > 0, "provisioning appended events")
            try await ConsumerCursors.save("uem-sync", position: head - 1, on: db)
            try await ConsumerCursors.save("uem-sync", position: head, on: db)
            #expect(try await ConsumerCursors.position(of: "uem-sync", on: db) == head)
            let pending = try await EventLog.read(after: head - 1, enterpriseID: nil, limit: 10, on: db)
            #expect(pending.map(\.id) == [head])
        }
    }

    @Test(arguments: TestDatabase.available)
    func dataSurvivesARestart(_ database: TestDatabase) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("openmtd-restart-\(UUID().uuidString)").path
        var agent: TestServer.Agent?
        try await withServer(database, dataDirectory: directory) { first in
            let activated = try await first.activate(udid: "udid-p")
            _ = try await first.checkIn(activated, Documents.android(apps: [Documents.stalkerware]))
            agent = activated
        }
        let device = try #require(agent)
        try await withServer(database, dataDirectory: directory, keepData: true) { second in
            let admin = try await second.login()
            let detail = try await second.send(.GET, "/api/v1/devices/\(device.deviceID)", token: admin)
            #expect((detail.json["device"] as? [String: Any])?["securityStatus"] as? String == "THREATS_HIGH")
            #expect(try await second.checkIn(device, Documents.android(apps: [Documents.stalkerware])).status == 200, "the credential still works")
            #expect(try await second.send(.GET, "/api/v1/enrollment-codes", token: admin).status == 200)
        }
    }
}
