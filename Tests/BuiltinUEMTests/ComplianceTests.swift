import FluentKit
import Foundation
@testable import MTDServer
import MTDStore
import SQLKit
import Testing
import UEMClient

/// Risk straight into compliance: the MTD reports the device threat level, a compliance policy on
/// it marks the device non-compliant, removes the Tunnel profile, tags the device and notifies;
/// all of it undone when the threat resolves. No smart group on MTD tags is involved.
@Suite(.serialized) struct ComplianceTests {
    let story = MTDToUEMTests()

    func device(_ uem: UEMServer, _ id: Int) async throws -> [String: Any] {
        try await uem.send(.GET, "/API/mdm/devices/\(id)").json
    }

    func events(_ uem: UEMServer, _ type: String) async throws -> Int {
        let sql = try #require(uem.app.db as? any SQLDatabase)
        let row = try await sql.raw("SELECT COUNT(*) AS n FROM uem_events WHERE event_type = \(bind: type)").first()
        return try row?.decode(column: "n", as: Int.self) ?? 0
    }

    @Test(arguments: UEMTestDatabase.available) func threatLevelDrivesCompliancePolicies(_ database: UEMTestDatabase) async throws {
        let uem = try await UEMServer.start(database)
        do {
            let prepared = try await story.prepare(uem)
            let sync = uem.app.mtd.uemSync
            #expect(try await sync.connect(WorkspaceOneClient(settings: prepared.settings), enterpriseID: prepared.enterpriseID, mapping: TagMapping(), createMissingTags: true).isEmpty)
            #expect(await sync.current?.reportsThreatLevel == true, "the built-in UEM offers compliance sync")
            try await sync.syncDevices(on: uem.app.db)
            let uemID = try #require(try await DeviceModel.query(on: uem.app.db).filter(\.$udid == "story-udid").first()?.uemDeviceID)

            var reply = try await uem.send(.POST, "/API/mdm/tags/addtag", json: ["TagName": "Compliance – Blocked", "TagType": 1])
            let blocked = try #require(reply.json["Value"] as? Int)
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "All Android", "Platforms": ["Android"]])
            let all = try #require(reply.json["SmartGroupID"] as? Int)
            reply = try await uem.send(.POST, "/API/mdm/profiles", json: ["Name": "Workspace ONE Tunnel", "AssignedSmartGroups": [all]])
            let tunnel = try #require(reply.json["ProfileId"] as? Int)
            let policy: [String: Any] = [
                "Name": "MTD threat level", "AssignedSmartGroups": [all],
                "Rules": [["Attribute": "MTDThreatLevel", "Operator": "GreaterThanOrEqual", "Value": "High"]],
                "Actions": [["Type": "MarkNonCompliant"], ["Type": "RemoveProfiles", "ProfileIds": [tunnel]], ["Type": "AddTag", "TagId": blocked],
                            ["Type": "Notify", "Email": "soc@example.com"]],
            ]
            reply = try await uem.send(.POST, "/API/mdm/compliancepolicies", json: policy)
            #expect(reply.status == 201, "\(reply.text)")
            #expect(try await device(uem, uemID)["ComplianceStatus"] as? String == "Compliant")
            #expect(try await story.uemProfiles(uem, deviceID: uemID) == ["Workspace ONE Tunnel"])
            reply = try await uem.send(.GET, "/API/mdm/devices/\(uemID)/compliance")
            let before = try #require((reply.json["DeviceCompliance"] as? [[String: Any]])?.first)
            #expect(before["PolicyName"] as? String == "MTD threat level")
            #expect(before["CompliantStatus"] as? Bool == true)

            // The agent activates and reports a HIGH threat.
            reply = try await uem.sendMTD(.POST, "/agent/v1/activate", json: ["enrollmentCode": prepared.enrollmentCode, "platform": "ANDROID", "mode": "EMBEDDED", "udid": "story-udid"])
            let credential = try #require(reply.json["credential"] as? String)
            _ = try await story.waitUntil("threat level None reported") { try await device(uem, uemID)["MTDThreatLevel"] as? String == "None" }
            let checkIn: [String: Any] = [
                "schemaVersion": 1, "agent": ["mode": "EMBEDDED"], "device": ["platform": "ANDROID", "osVersion": "16", "securityPatchLevel": "2026-11-01"],
                "apps": ["inventoryVersion": 1, "complete": true, "installed": [["id": "com.apspy.app"]]],
            ]
            reply = try await uem.sendMTD(.POST, "/agent/v1/checkin", bearer: credential, json: checkIn)
            #expect(reply.json["securityStatus"] as? String == "THREATS_HIGH")
            _ = try await story.waitUntil("non-compliant") { try await device(uem, uemID)["ComplianceStatus"] as? String == "NonCompliant" }
            #expect(try await device(uem, uemID)["MTDThreatLevel"] as? String == "High")
            #expect(try await story.uemProfiles(uem, deviceID: uemID).isEmpty, "the compliance action removed the Tunnel profile")
            #expect(try await story.uemTags(uem, deviceID: uemID).contains("Compliance – Blocked"))
            reply = try await uem.send(.GET, "/API/mdm/devices/\(uemID)/compliance")
            let broken = try #require((reply.json["DeviceCompliance"] as? [[String: Any]])?.first)
            #expect(broken["CompliantStatus"] as? Bool == false)
            #expect((broken["ActionTaken"] as? [[String: Any]])?.compactMap { $0["ActionType"] as? String } == ["MarkNonCompliant", "RemoveProfiles", "AddTag", "Notify"])
            #expect(reply.json["OverallCompliantStatus"] as? Bool == false)
            #expect(try await events(uem, "ComplianceNotification") == 1)
            #expect(try await events(uem, "ComplianceViolation") == 1)

            // Resolved: compliant again, the Tunnel profile and the tag follow.
            var clean = checkIn
            clean["apps"] = ["inventoryVersion": 2, "complete": true, "installed": [] as [Any]]
            reply = try await uem.sendMTD(.POST, "/agent/v1/checkin", bearer: credential, json: clean)
            #expect(reply.json["securityStatus"] as? String == "SECURE")
            _ = try await story.waitUntil("compliant") { try await device(uem, uemID)["ComplianceStatus"] as? String == "Compliant" }
            #expect(try await device(uem, uemID)["MTDThreatLevel"] as? String == "None")
            #expect(try await story.uemProfiles(uem, deviceID: uemID) == ["Workspace ONE Tunnel"])
            #expect(try await !story.uemTags(uem, deviceID: uemID).contains("Compliance – Blocked"))
            #expect(try await events(uem, "ComplianceRestored") == 1)
            #expect(try await events(uem, "ComplianceNotification") == 1, "no second notification without a new violation")
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }

    @Test func badPoliciesAndLevelsAreRefusedWithTheReason() async throws {
        let uem = try await UEMServer.start()
        do {
            let prepared = try await story.prepare(uem)
            var reply = try await uem.send(.POST, "/API/mdm/compliancepolicies", json: [
                "Name": "Typo", "AssignedSmartGroups": [] as [Int], "Rules": [["Attribute": "ThreatLevel", "Operator": "Equals", "Value": "High"]], "Actions": [] as [Any],
            ])
            #expect(reply.status == 400)
            #expect((reply.json["message"] as? String)?.hasPrefix("Rules[0]: Unknown rule attribute ThreatLevel; use one of MTDThreatLevel") == true, "\(reply.text)")
            reply = try await uem.send(.POST, "/API/mdm/compliancepolicies", json: [
                "Name": "Wrong operator", "AssignedSmartGroups": [] as [Int], "Rules": [["Attribute": "MTDThreatLevel", "Operator": "LessThan", "Value": "High"]], "Actions": [] as [Any],
            ])
            #expect(reply.json["message"] as? String == "Rules[0]: MTDThreatLevel rules take Equals, NotEquals, GreaterThanOrEqual, NotReported, not LessThan.")
            reply = try await uem.send(.POST, "/API/mdm/compliancepolicies", json: [
                "Name": "No tag", "AssignedSmartGroups": [] as [Int], "Rules": [["Attribute": "CompromisedStatus", "Operator": "Equals", "Value": "true"]],
                "Actions": [["Type": "AddTag"]],
            ])
            #expect(reply.json["message"] as? String == "Actions[0]: The AddTag action needs a TagId.")
            reply = try await uem.send(.POST, "/API/mdm/devices/mtdthreatlevel", json: ["ThreatLevel": "Severe", "BulkValues": ["Value": ["1"]]])
            #expect(reply.status == 400)
            #expect(reply.json["message"] as? String == "ThreatLevel must be one of None, Low, Medium, High or Unknown, not Severe.")
            // The MTD's own account may report levels (Bulk Management Edit) but not write policies.
            reply = try await uem.send(.POST, "/API/mdm/compliancepolicies", user: prepared.settings.username, password: prepared.settings.password, json: [
                "Name": "Sneaky", "AssignedSmartGroups": [] as [Int], "Rules": [["Attribute": "MTDThreatLevel", "Operator": "NotReported"]], "Actions": [] as [Any],
            ])
            #expect(reply.status == 403)
            #expect(reply.json["errorCode"] as? Int == 1001)
            reply = try await uem.send(.POST, "/API/mdm/devices/mtdthreatlevel", user: prepared.settings.username, password: prepared.settings.password,
                                       json: ["ThreatLevel": "Low", "BulkValues": ["Value": ["999999"]]])
            #expect(reply.status == 200)
            #expect(reply.json["FailedItems"] as? Int == 1)
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }
}
