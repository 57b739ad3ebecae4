import FluentKit
import Foundation
@testable import MTDServer
import MTDStore
import Testing
import TestSupport
import UEMClient

/// UEM sync over the in-memory connector: the whole path from device state to tags and threat
/// levels, without HTTP, in a few seconds.
@Suite struct InMemoryUEMSyncTests {
    static func waitUntil(_ what: String, within seconds: Double = 10, _ condition: () async throws -> Bool) async throws {
        if try await Wait.until(within: seconds, condition) == nil { Issue.record("\(what) did not happen within \(seconds) s") }
    }

    @Test func tagsAndThreatLevelsFollowTheDevicesAndNothingIsSentTwice() async throws {
        try await withServer(.sqlite) { server in
            let uem = InMemoryUEMConnector()
            var ids: [String: Int] = [:]
            for index in 0..<50 { ids["mem-\(index)"] = await uem.enroll(udid: "mem-\(index)") }
            let sync = server.app.mtd.uemSync
            #expect(try await sync.connect(uem, key: "memory", enterpriseID: server.enterpriseID, mapping: TagMapping(), createMissingTags: true).isEmpty)
            #expect(try await sync.syncDevices(on: server.app.db).created == 50)
            try await Self.waitUntil("every phone is Pending") {
                var all = true
                for id in ids.values where await uem.tags(of: id) != ["MTD – Pending"] { all = false }
                return all
            }

            var agents: [String: TestServer.Agent] = [:]
            for index in 0..<10 { agents["mem-\(index)"] = try await server.activate(udid: "mem-\(index)") }
            for index in 0..<3 {
                let agent = try #require(agents["mem-\(index)"])
                let reply = try await server.checkIn(agent, Documents.android(apps: [Documents.stalkerware], inventoryVersion: 1, complete: true))
                #expect(reply.json["securityStatus"] as? String == "THREATS_HIGH")
            }
            try await Self.waitUntil("tags follow activation and threats") {
                for index in 0..<50 {
                    let id = try #require(ids["mem-\(index)"])
                    let expected: Set<String> = index < 3 ? ["MTD – Activated", "MTD – Threats Present", "MTD – High Risk"]
                        : (index < 10 ? ["MTD – Activated", "MTD – Secured"] : ["MTD – Pending"])
                    if await uem.tags(of: id) != expected { return false }
                }
                return true
            }
            #expect(await uem.threatLevels[try #require(ids["mem-0"])] == .high)
            #expect(await uem.threatLevels[try #require(ids["mem-5"])] == UEMThreatLevel.none)
            #expect(await uem.unchangedItems == 0, "no bulk call asked for a change already in effect")

            // A tag taken off by hand comes back with drift repair.
            let drifted = try #require(ids["mem-5"])
            await uem.removeByHand("MTD – Secured", from: drifted)
            try await sync.repairDrift(on: server.app.db)
            #expect(await uem.tags(of: drifted).contains("MTD – Secured"))

            // A phone leaving the UEM is DELETED in the MTD and its tags are no longer tracked.
            await uem.unenroll(id: try #require(ids["mem-49"]))
            #expect(try await sync.syncDevices(on: server.app.db).deleted == 1)
            #expect(try await DeviceModel.query(on: server.app.db).filter(\.$udid == "mem-49").first()?.activationStatus == .deleted)
        }
    }
}
