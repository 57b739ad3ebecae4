import AsyncHTTPClient
import BuiltinUEM
import FluentKit
import Foundation
import NIOCore
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

    /// Workspace ONE event notifications: a phone enrolled in the UEM appears in the MTD, linked and
    /// tagged, as soon as the UEM notifies, without a device-sync pass; its unenrolment removes it.
    @Test(arguments: UEMTestDatabase.available) func aNotificationFromTheUEMSyncsThatDeviceAtOnce(_ database: UEMTestDatabase) async throws {
        let uem = try await UEMServer.start(database)
        do {
            let story = try await MTDToUEMTests().prepare(uem)
            let sync = uem.app.mtd.uemSync
            #expect(try await sync.connect(WorkspaceOneClient(settings: story.settings), enterpriseID: story.enterpriseID, mapping: TagMapping(),
                                           createMissingTags: true).isEmpty)
            var reply = try await uem.sendMTD(.POST, "/api/v1/auth/login", json: ["email": AutomationCommandTests.ownerEmail, "password": AutomationCommandTests.ownerPassword])
            let owner = try #require(reply.json["token"] as? String, "\(reply.text)")
            reply = try await uem.sendMTD(.POST, "/api/v1/integrations/uem/notification-credential", bearer: owner)
            #expect(reply.status == 201, "\(reply.text)")
            let username = try #require(reply.json["username"] as? String), password = try #require(reply.json["password"] as? String)
            #expect((reply.json["url"] as? String)?.hasSuffix("/api/v1/integrations/uem/notifications") == true)

            reply = try await uem.send(.POST, "/API/mdm/devices/enroll", json: ["Udid": "notified-udid", "Platform": "Apple", "UserName": "noa"])
            let uemID = try #require((reply.json["Id"] as? [String: Any])?["Value"] as? Int)
            let uuid = try #require(reply.json["Uuid"] as? String, "\(reply.text)")
            // What a Workspace ONE tenant posts (field names from its event notifications).
            func notify(_ eventType: String, status: String, user: String = username, secret: String = password) async throws -> UEMServer.Reply {
                var request = HTTPClientRequest(url: uem.baseURL + "/api/v1/integrations/uem/notifications")
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                request.headers.add(name: "Authorization", value: "Basic " + Data("\(user):\(secret)".utf8).base64EncodedString())
                let body: [String: Any] = [
                    "EventId": 148, "EventType": eventType, "DeviceId": uemID, "DeviceFriendlyName": "noa iPhone", "EnrollmentEmailAddress": "",
                    "EnrollmentUserName": "noa", "EventTime": "/Date(1765152000000)/", "EnrollmentStatus": status, "CompromisedStatus": "",
                    "ComplianceStatus": "Compliant", "Udid": "notified-udid", "SerialNumber": "", "Platform": "Apple", "Ownership": "CorporateDedicated",
                    "OrganizationGroupName": "OpenMTD", "DeviceUUID": uuid,
                ]
                request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
                let response = try await uem.client.execute(request, timeout: .seconds(30))
                return UEMServer.Reply(status: Int(response.status.code), body: Data(buffer: try await response.body.collect(upTo: 1 << 20)))
            }
            reply = try await notify("MDMEnrollmentComplete", status: "Enrolled", secret: "wrong")
            #expect(reply.status == 401, "\(reply.text)")
            reply = try await notify("MDMEnrollmentComplete", status: "Enrolled")
            #expect(reply.status == 200 && reply.json["outcome"] as? String == "LINKED", "\(reply.text)")
            let device = try #require(try await DeviceModel.query(on: uem.app.db).filter(\.$udid == "notified-udid").first(), "the notification made the device")
            #expect(device.uemDeviceID == uemID && device.activationStatus == .pending)
            _ = try await MTDToUEMTests().waitUntil("pending tag", timeout: 5) { try await MTDToUEMTests().uemTags(uem, deviceID: uemID) == ["MTD – Pending"] }

            // Unenrolled in the UEM: the notification removes it from the MTD.
            reply = try await uem.send(.DELETE, "/API/mdm/devices/\(uemID)")
            #expect(reply.status < 300, "\(reply.text)")
            reply = try await notify("BreakMDMConfirmed", status: "Unenrolled")
            #expect(reply.json["outcome"] as? String == "REMOVED", "\(reply.text)")
            #expect(try await DeviceModel.find(try device.requireID(), on: uem.app.db)?.activationStatus == .deleted)

            // A notification naming no device is acknowledged and ignored; one that is not JSON is a 400.
            var request = HTTPClientRequest(url: uem.baseURL + "/api/v1/integrations/uem/notifications")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Basic " + Data("\(username):\(password)".utf8).base64EncodedString())
            request.body = .bytes(ByteBuffer(string: "{\"EventType\":\"Test\"}"))
            var response = try await uem.client.execute(request, timeout: .seconds(10))
            #expect(response.status == .ok)
            #expect(String(buffer: try await response.body.collect(upTo: 1 << 16)).contains("IGNORED"))
            request.body = .bytes(ByteBuffer(string: "not json"))
            response = try await uem.client.execute(request, timeout: .seconds(10))
            #expect(response.status == .badRequest)

            // A new credential replaces the old one.
            reply = try await uem.sendMTD(.POST, "/api/v1/integrations/uem/notification-credential", bearer: owner)
            #expect(reply.status == 201)
            reply = try await notify("MDMEnrollmentComplete", status: "Enrolled")
            #expect(reply.status == 401, "the old password no longer works: \(reply.text)")
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }

    /// The built-in UEM as the notifier: with `builtinUEMNotifications`, it registers this server as
    /// a target and posts each enrolment and unenrolment, so the phone appears in (and leaves) the
    /// MTD within seconds, with no device-sync pass and no activation.
    @Test(arguments: UEMTestDatabase.available) func theBuiltinUEMNotifiesThisServerOfEnrolmentsAndUnenrolments(_ database: UEMTestDatabase) async throws {
        let uem = try await UEMServer.start(database) { $0.builtinUEMNotifications = true }
        do {
            let story = try await MTDToUEMTests().prepare(uem)
            #expect(try await uem.app.mtd.uemSync.connect(WorkspaceOneClient(settings: story.settings), enterpriseID: story.enterpriseID,
                                                         mapping: TagMapping(), createMissingTags: true).isEmpty)
            let target = try await MTDToUEMTests().waitUntil("this server registered as a notification target", timeout: 10) {
                try await UEMEventNotifications.target(named: BuiltinUEMNotificationDelivery.targetName, on: uem.app.db) != nil
            }
            #expect(target < 10)
            var reply = try await uem.send(.POST, "/API/mdm/devices/enroll", json: ["Udid": "pushed-udid", "Platform": "Android", "UserName": "pia"])
            let uemID = try #require((reply.json["Id"] as? [String: Any])?["Value"] as? Int)
            let appeared = try await MTDToUEMTests().waitUntil("the enrolment notified", timeout: 10) {
                try await DeviceModel.query(on: uem.app.db).filter(\.$udid == "pushed-udid").first()?.uemDeviceID == uemID
            }
            print("built-in UEM notification: enrolled phone linked in the MTD \(String(format: "%.2f", appeared)) s after its enrolment")
            _ = try await MTDToUEMTests().waitUntil("pending tag", timeout: 5) { try await MTDToUEMTests().uemTags(uem, deviceID: uemID) == ["MTD – Pending"] }

            // Targets as a UEM admin sees them: this server, without its password; one that cannot be
            // reached keeps its place and shows the error; a bad URL is refused.
            reply = try await uem.send(.POST, "/API/system/eventnotifications", json: ["Name": "Down", "TargetUrl": "http://127.0.0.1:1/hook",
                                                                                       "Username": "u", "Password": "p", "Format": "JSON"])
            #expect(reply.status == 201, "\(reply.text)")
            let down = try #require(reply.json["Value"] as? Int)
            reply = try await uem.send(.POST, "/API/system/eventnotifications", json: ["Name": "Bad", "TargetUrl": "ftp://x", "Username": "u", "Password": "p"])
            #expect(reply.status == 400, "\(reply.text)")

            reply = try await uem.send(.DELETE, "/API/mdm/devices/\(uemID)")
            #expect(reply.status < 300, "\(reply.text)")
            _ = try await MTDToUEMTests().waitUntil("the unreachable target's error", timeout: 20) {
                let list = try await uem.send(.GET, "/API/system/eventnotifications")
                return (list.json["EventNotifications"] as? [[String: Any]])?.contains { $0["Name"] as? String == "Down" && $0["LastError"] is String } == true
            }
            reply = try await uem.send(.GET, "/API/system/eventnotifications")
            #expect(!reply.text.contains("mtdn_"), "passwords are never shown: \(reply.text)")
            #expect((reply.json["EventNotifications"] as? [[String: Any]])?.contains { $0["Name"] as? String == "OpenMTD" } == true)
            reply = try await uem.send(.DELETE, "/API/system/eventnotifications/\(down)")
            #expect(reply.status == 204, "\(reply.text)")
            _ = try await MTDToUEMTests().waitUntil("the unenrolment notified", timeout: 10) {
                try await DeviceModel.query(on: uem.app.db).filter(\.$udid == "pushed-udid").first()?.activationStatus == .deleted
            }
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }
}
