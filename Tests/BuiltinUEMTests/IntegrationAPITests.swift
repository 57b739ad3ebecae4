import AsyncHTTPClient
@testable import BuiltinUEM
import FluentKit
import Foundation
@testable import MTDServer
import MTDStore
import NIOCore
import NIOHTTP1
import Testing
import UEMClient

/// The admin API for the UEM connection: saving it validates credentials and the tag mapping
/// against the UEM's tags, and nothing invalid is ever saved.
@Suite(.serialized) struct IntegrationAPITests {
    let story = MTDToUEMTests()

    func admin(_ uem: UEMServer, _ method: NIOHTTP1.HTTPMethod, _ path: String, token: String, json: Any? = nil) async throws -> UEMServer.Reply {
        var request = HTTPClientRequest(url: uem.baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: json)))
        }
        let response = try await uem.client.execute(request, timeout: .seconds(30))
        return UEMServer.Reply(status: Int(response.status.code), body: Data(buffer: try await response.body.collect(upTo: 16 * 1024 * 1024)))
    }

    func error(_ reply: UEMServer.Reply) -> [String: Any] {
        reply.json["error"] as? [String: Any] ?? [:]
    }

    /// A new mapping on a connected UEM takes the old tags off every device and puts the new ones
    /// on: a device must not stay in a smart group (and out of Tunnel) for a tag nobody maps anymore.
    @Test(arguments: UEMTestDatabase.available) func changingTheMappingMovesEveryDeviceToTheNewTags(_ database: UEMTestDatabase) async throws {
        let uem = try await UEMServer.start(database)
        do {
            _ = try await story.prepare(uem)
            var reply = try await uem.sendMTD(.POST, "/api/v1/auth/login", json: ["email": "admin@openmtd.local", "password": "owner-password-1234"])
            let token = try #require(reply.json["token"] as? String)
            reply = try await admin(uem, .PUT, "/api/v1/integrations/uem", token: token, json: ["kind": "builtin", "createMissingTags": true])
            #expect(reply.status == 200, "\(reply.text)")
            #expect(try await uem.app.mtd.uemSync.syncDevices(on: uem.app.db).created == 1)
            let device = try #require(try await DeviceModel.query(on: uem.app.db).filter(\.$udid == "story-udid").first())
            let uemID = try #require(device.uemDeviceID)
            _ = try await story.waitUntil("the device carries the Pending tag") { try await story.uemTags(uem, deviceID: uemID) == ["MTD – Pending"] }

            var mapping = try #require(reply.json["tagMapping"] as? [String: Any])
            mapping["pending"] = "Corp – Awaiting MTD"
            reply = try await admin(uem, .PUT, "/api/v1/integrations/uem", token: token, json: ["kind": "builtin", "createMissingTags": true, "tagMapping": mapping])
            #expect(reply.status == 200, "\(reply.text)")
            _ = try await story.waitUntil("the old tag is gone and the new one applied") {
                try await story.uemTags(uem, deviceID: uemID) == ["Corp – Awaiting MTD"]
            }
            _ = try await story.waitUntil("no change is pending") {
                let status = try await admin(uem, .GET, "/api/v1/integrations/uem", token: token)
                return (status.json["sync"] as? [String: Any])?["pendingChanges"] as? Int == 0
            }
            let applied = try await AppliedTagModel.query(on: uem.app.db).all().map(\.tagName)
            #expect(applied == ["Corp – Awaiting MTD"])
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }

    /// Another UEM is another connection: the device ids, tags and threat levels recorded against
    /// the first never reach the second, whose ids mean other phones.
    @Test(arguments: UEMTestDatabase.available) func switchingUEMsSendsNothingOfTheOldOneToTheNewOne(_ database: UEMTestDatabase) async throws {
        let first = try await UEMServer.start(database)
        let second: UEMServer
        do {
            second = try await UEMServer.start(database)
        } catch {
            try await first.stop()
            throw error
        }
        do {
            // In the second UEM, another phone enrols first: it has the id the story phone has in the first.
            var reply = try await second.send(.POST, "/API/mdm/devices/enroll", json: ["Udid": "other-udid", "Platform": "Android", "UserName": "al"])
            #expect(reply.status == 201)
            let otherID = try await firstDeviceID(second, udid: "other-udid")
            let firstStory = try await story.prepare(first)
            let secondStory = try await story.prepare(second)
            reply = try await first.sendMTD(.POST, "/api/v1/auth/login", json: ["email": "admin@openmtd.local", "password": "owner-password-1234"])
            let token = try #require(reply.json["token"] as? String)
            reply = try await admin(first, .PUT, "/api/v1/integrations/uem", token: token, json: ["kind": "builtin", "createMissingTags": true])
            #expect(reply.status == 200, "\(reply.text)")
            _ = try await first.app.mtd.uemSync.syncDevices(on: first.app.db)
            reply = try await first.sendMTD(.POST, "/agent/v1/activate", json: [
                "enrollmentCode": firstStory.enrollmentCode, "platform": "ANDROID", "mode": "EMBEDDED", "udid": "story-udid",
            ])
            #expect(reply.status == 201, "\(reply.text)")
            let firstID = try await firstDeviceID(first, udid: "story-udid")
            #expect(firstID == otherID, "the ids collide, which is the point")
            _ = try await story.waitUntil("the first UEM tags the phone") {
                try await story.uemTags(first, deviceID: firstID) == ["MTD – Activated", "MTD – Secured"]
            }

            // The admin switches to the second UEM (a Workspace ONE tenant as far as the MTD knows).
            reply = try await admin(first, .PUT, "/api/v1/integrations/uem", token: token, json: [
                "kind": "workspace-one", "baseURL": secondStory.settings.baseURL, "tenantCode": secondStory.settings.tenantCode,
                "username": "mtd_api", "password": secondStory.settings.password, "createMissingTags": true,
            ])
            #expect(reply.status == 200, "\(reply.text)")
            _ = try await first.app.mtd.uemSync.syncDevices(on: first.app.db)
            let storyInSecond = try await firstDeviceID(second, udid: "story-udid")
            _ = try await story.waitUntil("the second UEM tags the story phone by its own id") {
                try await story.uemTags(second, deviceID: storyInSecond) == ["MTD – Activated", "MTD – Secured"]
            }
            _ = try await story.waitUntil("the other phone carries only its own state") {
                try await story.uemTags(second, deviceID: otherID) == ["MTD – Pending"]
            }
            let added = try await UEMEvent.query(on: second.app.db).filter(\.$deviceID == otherID).filter(\.$eventType == "TagAdded").all().compactMap(\.detail)
            #expect(added == ["MTD – Pending"], "nothing meant for the story phone reached the phone with its old id")
            let device = try #require(try await DeviceModel.query(on: first.app.db).filter(\.$udid == "story-udid").first())
            reply = try await admin(first, .GET, "/api/v1/devices/\(try device.requireID().uuidString.lowercased())", token: token)
            let link = try #require((reply.json["device"] as? [String: Any])?["uem"] as? [String: Any])
            #expect(link["deviceId"] as? Int == storyInSecond)
            #expect((link["connection"] as? String)?.hasPrefix("workspace-one ") == true)
        } catch {
            try await second.stop()
            try await first.stop()
            throw error
        }
        try await second.stop()
        try await first.stop()
    }

    func firstDeviceID(_ uem: UEMServer, udid: String) async throws -> Int {
        try #require(try await UEMDevice.query(on: uem.app.db).filter(\.$udid == udid).first()?.id)
    }

    @Test(arguments: UEMTestDatabase.available) func savingTheConnectionValidatesItAgainstTheUEM(_ database: UEMTestDatabase) async throws {
        let uem = try await UEMServer.start(database)
        do {
            let prepared = try await story.prepare(uem)
            var reply = try await uem.sendMTD(.POST, "/api/v1/auth/login", json: ["email": "admin@openmtd.local", "password": "owner-password-1234"])
            let token = try #require(reply.json["token"] as? String)

            reply = try await admin(uem, .GET, "/api/v1/integrations/uem", token: token)
            #expect(reply.json["kind"] as? String == "builtin")
            #expect(reply.json["connected"] as? Bool == false)
            #expect((reply.json["tagMapping"] as? [String: Any])?["mediumRisk"] as? String == "MTD – Medium Risk")

            // The built-in UEM: its tags are created, compliance sync is on.
            reply = try await admin(uem, .PUT, "/api/v1/integrations/uem", token: token, json: ["kind": "builtin", "createMissingTags": true])
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.json["connected"] as? Bool == true)
            #expect(reply.json["complianceSync"] as? Bool == true)
            #expect(reply.json["product"] as? String == "OpenMTD built-in UEM")

            // The seed article's "Moderate Risk" mistake: 422 naming the closest tag; nothing saved.
            var mapping = try #require(reply.json["tagMapping"] as? [String: Any])
            mapping["mediumRisk"] = "MTD – Moderate Risk"
            reply = try await admin(uem, .PUT, "/api/v1/integrations/uem", token: token, json: ["kind": "builtin", "createMissingTags": false, "tagMapping": mapping])
            #expect(reply.status == 422)
            #expect(error(reply)["code"] as? String == "tag_mapping")
            #expect(error(reply)["field"] as? String == "$.tagMapping.mediumRisk")
            let problem = try #require((error(reply)["problems"] as? [[String: Any]])?.first)
            #expect(problem["suggestion"] as? String == "MTD – Medium Risk")
            #expect((error(reply)["message"] as? String)?.contains("did you mean \"MTD – Medium Risk\"?") == true)
            reply = try await admin(uem, .GET, "/api/v1/integrations/uem", token: token)
            #expect((reply.json["tagMapping"] as? [String: Any])?["mediumRisk"] as? String == "MTD – Medium Risk")
            reply = try await admin(uem, .POST, "/api/v1/integrations/uem/test", token: token, json: ["kind": "builtin", "createMissingTags": false, "tagMapping": mapping])
            #expect(reply.status == 200)
            #expect(reply.json["ok"] as? Bool == false)
            #expect(((reply.json["mappingProblems"] as? [[String: Any]])?.first)?["suggestion"] as? String == "MTD – Medium Risk")

            // A Workspace ONE tenant (this server's /API, with the story's account): wrong password, then right.
            let tenant: [String: Any] = ["kind": "workspace-one", "baseURL": prepared.settings.baseURL, "tenantCode": prepared.settings.tenantCode, "username": "mtd_api"]
            reply = try await admin(uem, .PUT, "/api/v1/integrations/uem", token: token, json: tenant.merging(["password": "wrong-password"]) { $1 })
            #expect(reply.status == 422)
            #expect(error(reply)["code"] as? String == "uem_credentials")
            reply = try await admin(uem, .PUT, "/api/v1/integrations/uem", token: token, json: tenant)
            #expect(reply.status == 400)
            #expect(error(reply)["field"] as? String == "$.password")
            reply = try await admin(uem, .PUT, "/api/v1/integrations/uem", token: token, json: tenant.merging(["password": prepared.settings.password]) { $1 })
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.json["kind"] as? String == "workspace-one")
            #expect(reply.json["authentication"] as? String == "basic")
            #expect(reply.json["password"] == nil, "secrets are never shown")
            // Saved: a later edit of the same account may leave the password out.
            reply = try await admin(uem, .PUT, "/api/v1/integrations/uem", token: token, json: tenant.merging(["createMissingTags": false]) { $1 })
            #expect(reply.status == 200, "\(reply.text)")

            // An account whose role cannot read tags: the reason, not a generic failure.
            reply = try await uem.send(.POST, "/API/system/roles", json: ["Name": "Devices only", "Permissions": ["Devices": "Read"]])
            let roleID = try #require((reply.json["Id"] as? [String: Any])?["Value"] as? Int)
            _ = try await uem.send(.POST, "/API/system/admins/addadmin", json: ["UserName": "devices_only", "Password": "devices-only-pass-1", "RoleId": roleID])
            reply = try await admin(uem, .PUT, "/api/v1/integrations/uem", token: token, json: tenant.merging(["username": "devices_only", "password": "devices-only-pass-1"]) { $1 })
            #expect(reply.status == 422)
            #expect(error(reply)["code"] as? String == "uem_forbidden")
            #expect((error(reply)["message"] as? String)?.contains("lacks Tags Read") == true, "\(reply.text)")

            // Misspelt and missing fields name the field.
            reply = try await admin(uem, .PUT, "/api/v1/integrations/uem", token: token, json: ["kind": "builtin", "tagMaping": mapping])
            #expect(reply.status == 400)
            #expect(error(reply)["message"] as? String == "unknown field \"tagMaping\"; did you mean \"tagMapping\"?")
            reply = try await admin(uem, .PUT, "/api/v1/integrations/uem", token: token, json: ["kind": "intune"])
            #expect(error(reply)["field"] as? String == "$.kind")

            // On-demand sync brings the UEM's device in; /metrics shows the connection.
            reply = try await admin(uem, .POST, "/api/v1/integrations/uem/sync", token: token)
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.json["devicesSeen"] as? Int == 1)
            reply = try await admin(uem, .GET, "/api/v1/integrations/uem", token: token)
            #expect((reply.json["sync"] as? [String: Any])?["lastDeviceSync"] != nil)
            let metrics = try await admin(uem, .GET, "/metrics", token: token).text
            #expect(metrics.contains("openmtd_uem_connected 1"))
            #expect(metrics.contains("openmtd_uem_pending_changes"))

            // The audit log has the change.
            reply = try await admin(uem, .GET, "/api/v1/audit", token: token)
            #expect(reply.text.contains("UEM_CONNECTION"))
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }
}
