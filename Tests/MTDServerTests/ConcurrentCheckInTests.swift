import FluentKit
import Foundation
@testable import MTDServer
import MTDStore
import SQLKit
import Testing

/// Check-ins that change something are prepared outside any transaction and committed in groups,
/// each guarded by its device's revision (CheckInWriter). These tests race check-ins against each
/// other and check that the stored state and the event log still tell one consistent story.
@Suite(.serialized) struct ConcurrentCheckInTests {
    @Test(arguments: TestDatabase.available)
    func racingCheckInsOfOneDeviceLeaveStateAndEventsConsistent(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let admin = try await server.login()
            let agent = try await server.activate(udid: "udid-race")
            #expect(try await server.checkIn(agent, Documents.android()).status == 200)
            let head = try await server.eventHead(admin)
            let before = try await revision(of: agent, server)

            // Twelve complete inventories at once, alternately with and without stalkerware: each
            // opens or resolves threats against whatever the previous winner stored.
            let count = 12
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<count {
                    let apps = index.isMultiple(of: 2) ? [Documents.stalkerware] : [["id": "com.whatsapp", "source": "PLAY_STORE"]]
                    let body = try JSONSerialization.data(withJSONObject: Documents.android(apps: apps, inventoryVersion: 10 + index))
                    group.addTask { try await server.checkIn(agent, try Self.document(body)).status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: count))

            // Every check-in committed exactly once: one revision each.
            #expect(try await revision(of: agent, server) == before + count)

            // The open threats are the ones the stored inventory implies, and the events agree.
            let sql = try #require(server.app.db as? any SQLDatabase)
            let deviceID = try #require(UUID(uuidString: agent.deviceID))
            let stored = try await HotQueries.apps(of: deviceID, on: server.app.db).map(\.id)
            let open = try await sql.raw("SELECT classification FROM threats WHERE device_id = \(bind: deviceID) AND status = 'OPEN'")
                .all().map { try $0.decode(column: "classification", as: String.self) }
            let hasStalkerware = stored.contains("com.apspy.app")
            #expect(stored.count == 1)
            #expect(open.contains("SURVEILLANCEWARE") == hasStalkerware, "stored \(stored), open \(open)")

            let events = try await server.events(admin, after: head).filter { $0["type"] as? String == "THREAT" }
            let created = events.filter { $0["change_type"] as? String == "CREATED" }.count
            let resolved = events.filter { (($0["threat"] as? [String: Any])?["status"] as? String) == "RESOLVED" }.count
            #expect(created - resolved == open.count, "\(created) created, \(resolved) resolved, \(open.count) open")
            let security = try await sql.raw("SELECT security_status FROM devices WHERE id = \(bind: deviceID)").first()?
                .decode(column: "security_status", as: String.self)
            #expect(security == (hasStalkerware ? "THREATS_HIGH" : "SECURE"))
        }
    }

    @Test(arguments: TestDatabase.available)
    func manyDevicesCommittedTogetherKeepTheirOwnChanges(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let admin = try await server.login()
            var agents: [TestServer.Agent] = []
            for index in 0..<20 {
                let agent = try await server.activate(udid: "udid-group-\(index)")
                #expect(try await server.checkIn(agent, Documents.android()).status == 200)
                agents.append(agent)
            }
            let head = try await server.eventHead(admin)
            // Even devices get stalkerware in a delta, odd ones lose WhatsApp: all at once, so the
            // writer groups them.
            let replies = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for (index, agent) in agents.enumerated() {
                    let document = index.isMultiple(of: 2)
                        ? Documents.android(apps: [Documents.stalkerware], inventoryVersion: 2, complete: false)
                        : Documents.android(apps: [], inventoryVersion: 2, complete: false, removed: ["com.whatsapp"])
                    let body = try JSONSerialization.data(withJSONObject: document)
                    group.addTask { (index, try await server.checkIn(agent, try Self.document(body)).json["securityStatus"] as? String) }
                }
                return try await group.reduce(into: [Int: String?]()) { $0[$1.0] = $1.1 }
            }
            for index in 0..<20 {
                #expect(replies[index] == (index.isMultiple(of: 2) ? "THREATS_HIGH" : "SECURE"), "device \(index)")
            }
            for (index, agent) in agents.enumerated() {
                let deviceID = try #require(UUID(uuidString: agent.deviceID))
                let apps = try await HotQueries.apps(of: deviceID, on: server.app.db).map(\.id)
                #expect(apps == (index.isMultiple(of: 2) ? ["com.apspy.app", "com.whatsapp"] : []), "device \(index)")
            }
            let events = try await server.events(admin, after: head)
            let created = events.filter { $0["type"] as? String == "THREAT" && $0["change_type"] as? String == "CREATED" }
            // Two threats per stalkerware device (surveillanceware and the sideloaded app).
            #expect(created.count == 20)
            let deviceEvents = events.filter { $0["type"] as? String == "DEVICE" }
            #expect(deviceEvents.count == 10, "security status changed on the ten stalkerware devices only")
        }
    }

    /// A check-in document rebuilt inside a task (dictionaries of `Any` cannot cross into one).
    static func document(_ body: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
    }

    private func revision(of agent: TestServer.Agent, _ server: TestServer) async throws -> Int {
        let deviceID = try #require(UUID(uuidString: agent.deviceID))
        let sql = try #require(server.app.db as? any SQLDatabase)
        return try #require(try await sql.raw("SELECT revision FROM devices WHERE id = \(bind: deviceID)").first()?.decode(column: "revision", as: Int.self))
    }
}
