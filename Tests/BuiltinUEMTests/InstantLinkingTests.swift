import FluentKit
import Foundation
@testable import MTDServer
import MTDStore
import Testing
import UEMClient

/// Instant linking (issue "Built-in UEM"): a phone enrolled in the UEM a moment before its agent
/// activates is linked at activation, before device sync has seen it, and its tags follow at once;
/// the UEM's device lookups (`?searchby=&id=`, `/udid/{udid}`) that activation relies on.
@Suite(.serialized) struct InstantLinkingTests {
    @Test(arguments: UEMTestDatabase.available) func aDeviceEnrolledASecondAgoIsLinkedAtActivation(_ database: UEMTestDatabase) async throws {
        let uem = try await UEMServer.start(database)
        do {
            let story = try await MTDToUEMTests().prepare(uem)
            let sync = uem.app.mtd.uemSync
            #expect(try await sync.connect(WorkspaceOneClient(settings: story.settings), enterpriseID: story.enterpriseID, mapping: TagMapping(),
                                           createMissingTags: true).isEmpty)
            // Enrolled now, after the connection, and never seen by device sync.
            var reply = try await uem.send(.POST, "/API/mdm/devices/enroll", json: [
                "Udid": "instant-udid", "Platform": "Android", "Model": "Pixel 9", "SerialNumber": "SN-INSTANT", "UserName": "kim",
            ])
            #expect(reply.status == 201, "\(reply.text)")
            let uemID = try #require((reply.json["Id"] as? [String: Any])?["Value"] as? Int, "\(reply.text)")
            #expect(try await DeviceModel.query(on: uem.app.db).filter(\.$udid == "instant-udid").first() == nil)

            reply = try await uem.sendMTD(.POST, "/agent/v1/activate", json: ["enrollmentCode": story.enrollmentCode, "platform": "ANDROID",
                                                                              "mode": "EMBEDDED", "udid": "instant-udid"])
            #expect(reply.status == 201, "\(reply.text)")
            let deviceID = try #require((reply.json["deviceId"] as? String).flatMap(UUID.init(uuidString:)))
            // Linked when the activation is answered, before any check-in.
            let device = try #require(try await DeviceModel.find(deviceID, on: uem.app.db))
            #expect(device.uemDeviceID == uemID, "linked at activation")
            #expect(device.externalID != nil, "the UEM's UUID is kept")
            let seconds = try await MTDToUEMTests().waitUntil("activated tags", timeout: 5) {
                try await MTDToUEMTests().uemTags(uem, deviceID: uemID) == ["MTD – Activated", "MTD – Secured"]
            }
            print("instant linking: tags applied \(String(format: "%.3f", seconds)) s after the activation was answered")

            // A phone the UEM does not know activates as before, unlinked, for device sync to find.
            reply = try await uem.sendMTD(.POST, "/agent/v1/activate", json: ["enrollmentCode": story.enrollmentCode, "platform": "IOS",
                                                                              "mode": "STANDALONE", "udid": "not-in-the-uem"])
            #expect(reply.status == 201, "\(reply.text)")
            let other = try #require((reply.json["deviceId"] as? String).flatMap(UUID.init(uuidString:)))
            #expect(try await DeviceModel.find(other, on: uem.app.db)?.uemDeviceID == nil)
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }

    @Test(arguments: UEMTestDatabase.available) func theUEMFindsADeviceByItsIdentities(_ database: UEMTestDatabase) async throws {
        let uem = try await UEMServer.start(database)
        do {
            var reply = try await uem.send(.POST, "/API/mdm/devices/enroll", json: [
                "Udid": "lookup-udid", "Platform": "Apple", "SerialNumber": "SN LOOKUP/1", "UserName": "lee",
            ])
            #expect(reply.status == 201, "\(reply.text)")
            let id = try #require((reply.json["Id"] as? [String: Any])?["Value"] as? Int)
            for path in ["/API/mdm/devices?searchby=Udid&id=lookup-udid", "/API/mdm/devices?searchby=Serialnumber&id=SN%20LOOKUP%2F1",
                         "/API/mdm/devices?searchby=DeviceId&id=\(id)", "/API/mdm/devices/udid/lookup-udid"] {
                reply = try await uem.send(.GET, path)
                #expect(reply.status == 200, "\(path): \(reply.text)")
                #expect((reply.json["Id"] as? [String: Any])?["Value"] as? Int == id, "\(path): \(reply.text)")
                #expect(reply.json["Udid"] as? String == "lookup-udid")
            }
            for path in ["/API/mdm/devices?searchby=Udid&id=nobody", "/API/mdm/devices/udid/nobody"] {
                reply = try await uem.send(.GET, path)
                #expect(reply.status == 404, "\(path): \(reply.text)")
            }
            reply = try await uem.send(.GET, "/API/mdm/devices?searchby=Colour&id=red")
            #expect(reply.status == 400, "\(reply.text)")
            reply = try await uem.send(.GET, "/API/mdm/devices")
            #expect(reply.status == 400, "searchby and id are required: \(reply.text)")

            // The Workspace ONE client's lookups, as activation makes them.
            let settings = WorkspaceOneClient.Settings(baseURL: uem.baseURL + "/API", tenantCode: uem.tenantCode, username: "uemadmin",
                                                       password: UEMServer.adminPassword, timeoutSeconds: 10, maxAttempts: 1)
            let client = WorkspaceOneClient(settings: settings)
            let byUDID = try #require(try await client.device(.udid("lookup-udid")))
            #expect(byUDID.id == id)
            #expect(try await client.device(.uuid(byUDID.uuid))?.id == id)
            #expect(try await client.device(.serialNumber("SN LOOKUP/1"))?.id == id)
            #expect(try await client.device(.udid("nobody")) == nil)
            #expect(try await client.device(.uuid("not-a-uuid")) == nil)
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }
}
