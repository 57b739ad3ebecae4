import FluentKit
import Foundation
@testable import MTDServer
import MTDStore
import SQLKit
import Testing
import UEMClient

/// A real Workspace ONE client to the built-in UEM, with a switch that makes the UEM unreachable
/// (as a network outage would) and a count of the calls that reached it.
actor OutageSwitch {
    var down = false
    var calls: [String: Int] = [:]

    func set(down: Bool) { self.down = down }
    func record(_ name: String) { calls[name, default: 0] += 1 }
    func reset() { calls = [:] }
}

struct SwitchedConnector: UEMConnector {
    let client: WorkspaceOneClient
    let outage: OutageSwitch

    func check(_ name: String) async throws(UEMClientError) {
        if await outage.down { throw .unavailable("\(name): connection refused") }
    }

    func devices(page: Int, pageSize: Int) async throws(UEMClientError) -> UEMDevicePage {
        try await check("devices")
        return try await client.devices(page: page, pageSize: pageSize)
    }

    func device(_ lookup: UEMDeviceLookup) async throws(UEMClientError) -> UEMDeviceRecord? {
        try await check("device")
        return try await client.device(lookup)
    }

        func tags() async throws(UEMClientError) -> [UEMTagInfo] {
        try await check("tags")
        return try await client.tags()
    }

    func createTag(named name: String) async throws(UEMClientError) -> Int {
        try await check("createTag")
        return try await client.createTag(named: name)
    }

    func addDevices(_ deviceIDs: [Int], toTag tagID: Int) async throws(UEMClientError) -> UEMBulkResult {
        try await check("add")
        let result = try await client.addDevices(deviceIDs, toTag: tagID)
        await outage.record("add")
        return result
    }

    func removeDevices(_ deviceIDs: [Int], fromTag tagID: Int) async throws(UEMClientError) -> UEMBulkResult {
        try await check("remove")
        let result = try await client.removeDevices(deviceIDs, fromTag: tagID)
        await outage.record("remove")
        return result
    }

    func devices(withTag tagID: Int) async throws(UEMClientError) -> [Int] {
        try await check("devicesWithTag")
        return try await client.devices(withTag: tagID)
    }

    func systemInfo() async throws(UEMClientError) -> UEMSystemInfo {
        try await check("systemInfo")
        return try await client.systemInfo()
    }

    func reportThreatLevel(_ level: UEMThreatLevel, devices deviceIDs: [Int]) async throws(UEMClientError) -> UEMBulkResult {
        try await check("threatLevel")
        let result = try await client.reportThreatLevel(level, devices: deviceIDs)
        await outage.record("threatLevel")
        return result
    }

    func sendCommand(_ command: UEMDeviceCommand, device deviceID: Int) async throws(UEMClientError) {
        try await check("command")
        try await client.sendCommand(command, device: deviceID)
    }

    func sendMessage(_ text: String, device deviceID: Int) async throws(UEMClientError) {
        try await check("message")
        try await client.sendMessage(text, device: deviceID)
    }

    func tagNames(ofDevice deviceID: Int) async throws(UEMClientError) -> [String] {
        try await check("deviceTags")
        return try await client.tagNames(ofDevice: deviceID)
    }

    func members(ofSmartGroup groupID: Int) async throws(UEMClientError) -> [Int] {
        try await check("smartGroup")
        return try await client.members(ofSmartGroup: groupID)
    }
}

@Suite(.serialized) struct TagSyncConvergenceTests {
    @Test(arguments: UEMTestDatabase.available) func bulkCallsAreBatchedAndAnOutageLosesNothing(_ database: UEMTestDatabase) async throws {
        try await HeavyTestLock.run {
            let uem = try await UEMServer.start(database)
            do {
                let story = try await MTDToUEMTests().prepare(uem)
                let count = 1_100 // 3 bulk calls per tag at 500 ids each
                for index in 1..<count {
                    let reply = try await uem.send(.POST, "/API/mdm/devices/enroll", json: ["Udid": "bulk-\(index)", "Platform": "Android", "UserName": "u\(index)"])
                    #expect(reply.status == 201)
                }
                let outage = OutageSwitch()
                let connector = SwitchedConnector(client: WorkspaceOneClient(settings: story.settings), outage: outage)
                let sync = uem.app.mtd.uemSync
                uem.app.mtd.consumers.pause(UEMSync.cursorName) // this test decides when reconciliation runs
                #expect(try await sync.connect(connector, enterpriseID: story.enterpriseID, mapping: TagMapping(), createMissingTags: true).isEmpty)
                #expect(try await sync.syncDevices(on: uem.app.db).created == count)
    
                // N = 1,100 new Pending tags: ceil(N / 500) = 3 calls.
                #expect(try await sync.reconcile(devices: nil, on: uem.app.db) == 3)
                #expect(await outage.calls == ["add": 3])
    
                // Every device activates while the UEM is down: nothing is recorded as applied.
                await outage.reset()
                await outage.set(down: true)
                let sql = try #require(uem.app.db as? any SQLDatabase)
                try await sql.raw("UPDATE devices SET activation_status = 'ACTIVATED'").run()
                await #expect(throws: UEMClientError.self) { try await sync.reconcile(devices: nil, on: uem.app.db) }
                #expect(try await AppliedTagModel.query(on: uem.app.db).filter(\.$tagName == "MTD – Activated").count() == 0)
    
                // The UEM is back: one reconciliation converges with exactly ceil(N/500) calls per tag change
                // (Activated and Secured added, Pending removed) and per threat level (None reported for
                // compliance), and a second one has nothing left to send.
                await outage.set(down: false)
                #expect(try await sync.reconcile(devices: nil, on: uem.app.db) == 12)
                #expect(await outage.calls == ["add": 6, "remove": 3, "threatLevel": 3])
                #expect(try await sync.reconcile(devices: nil, on: uem.app.db) == 0)
                let tags = try await WorkspaceOneClient(settings: story.settings).tags()
                let activated = try #require(tags.first { $0.name == "MTD – Activated" }?.id)
                let pending = try #require(tags.first { $0.name == "MTD – Pending" }?.id)
                #expect(try await WorkspaceOneClient(settings: story.settings).devices(withTag: activated).count == count)
                #expect(try await WorkspaceOneClient(settings: story.settings).devices(withTag: pending).isEmpty)
            } catch {
                try await uem.stop()
                throw error
            }
            try await uem.stop()
        }
    }
}
