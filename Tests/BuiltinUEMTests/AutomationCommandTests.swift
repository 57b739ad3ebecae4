@testable import BuiltinUEM
import FluentKit
import Foundation
@testable import MTDServer
import MTDStore
import TestSupport
import Testing
import Vapor

/// Automations' UEM actions end to end: a rule saved through the admin API, a threat from a real
/// check-in, and the built-in UEM (over its Workspace ONE REST API) receiving the message, the lock,
/// the tag and the threat level for the device that device sync linked.
@Suite(.serialized) struct AutomationCommandTests {
    static let ownerEmail = "admin@openmtd.local"
    static let ownerPassword = "owner-password-1234"

    struct Fleet {
        let uem: UEMServer
        let owner: String
        let uemDeviceID: Int
        let credential: String
    }

    /// A phone enrolled in the built-in UEM, linked by device sync, then activated by its agent.
    static func fleet(_ uem: UEMServer, udid: String) async throws -> Fleet {
        var reply = try await uem.send(.POST, "/API/mdm/devices/enroll", json: [
            "Udid": udid, "Platform": "Android", "Model": "Pixel 9", "OperatingSystem": "16", "UserName": "sam", "UserEmailAddress": "sam@example.com",
        ])
        #expect(reply.status == 201, "\(reply.text)")
        #expect(try await UEMConnectionLifecycle.connect(app: uem.app, services: uem.app.mtd))
        _ = try await uem.app.mtd.uemSync.syncDevices(on: uem.app.db)
        let device = try #require(try await DeviceModel.query(on: uem.app.db).filter(\.$udid == udid).first())
        let uemDeviceID = try #require(device.uemDeviceID, "device sync links the phone to its UEM device")
        let code = try #require(try await EnrollmentCodeModel.query(on: uem.app.db).filter(\.$revokedAt == nil).first())
        reply = try await uem.sendMTD(.POST, "/agent/v1/activate", json: ["enrollmentCode": code.code, "platform": "ANDROID", "mode": "EMBEDDED", "udid": udid])
        #expect(reply.status == 201, "\(reply.text)")
        let credential = try #require(reply.json["credential"] as? String)
        reply = try await uem.sendMTD(.POST, "/api/v1/auth/login", json: ["email": ownerEmail, "password": ownerPassword])
        let owner = try #require(reply.json["token"] as? String, "\(reply.text)")
        return Fleet(uem: uem, owner: owner, uemDeviceID: uemDeviceID, credential: credential)
    }

    static func stalkerwareCheckIn(_ fleet: Fleet) async throws {
        let reply = try await fleet.uem.sendMTD(.POST, "/agent/v1/checkin", bearer: fleet.credential, json: [
            "schemaVersion": 1, "agent": ["mode": "EMBEDDED"], "device": ["platform": "ANDROID", "osVersion": "16", "securityPatchLevel": "2026-11-01"],
            "apps": ["inventoryVersion": 1, "complete": true, "installed": [["id": "com.apspy.app"]]],
        ])
        #expect(reply.json["securityStatus"] as? String == "THREATS_HIGH", "\(reply.text)")
    }

    static func rule(_ name: String, actions: [[String: Any]]) -> [String: Any] {
        ["name": name, "trigger": ["type": "THREAT", "change": "CREATED", "minimumSeverity": "HIGH"], "actions": actions]
    }

    static func commands(_ fleet: Fleet) async throws -> [[String: Any]] {
        let reply = try await fleet.uem.send(.GET, "/API/mdm/devices/\(fleet.uemDeviceID)/commands")
        #expect(reply.status == 200, "\(reply.text)")
        return reply.json["Commands"] as? [[String: Any]] ?? []
    }

    @Test(arguments: UEMTestDatabase.available)
    func aHighThreatSendsTheMessageLockTagAndThreatLevelToTheDevice(_ database: UEMTestDatabase) async throws {
        let uem = try await UEMServer.start(database)
        do {
            let fleet = try await Self.fleet(uem, udid: "automation-command-phone")
            let created = try await uem.sendMTD(.POST, "/api/v1/automations", bearer: fleet.owner, json: Self.rule("Contain a HIGH threat", actions: [
                ["type": "uem", "command": "message", "message": "Remove the app OpenMTD flagged, then open the agent."],
                ["type": "uem", "command": "lock"],
                ["type": "uem", "command": "addTag", "tag": "Quarantine"],
                ["type": "uem", "command": "setThreatLevel", "level": "HIGH"],
            ]))
            #expect(created.status == 201, "\(created.text)")
            try await Self.stalkerwareCheckIn(fleet)

            let queued = try await Wait.until(within: 20) { try await Self.commands(fleet).count == 2 }
            let commands = try await Self.commands(fleet)
            #expect(queued != nil, "\(commands)")
            // Newest first: the message went before the lock, as the rule orders them.
            #expect(commands.map { $0["Command"] as? String } == ["Lock", "Message"])
            #expect(commands.last?["Detail"] as? String == "Remove the app OpenMTD flagged, then open the agent.")
            #expect(commands.allSatisfy { $0["QueuedBy"] as? String == "openmtd_automations" }, "automations use their own UEM account")

            // The device's MDM agent fetches its queue (Delivered), then reports the lock done.
            let delivered = try await uem.send(.POST, "/API/mdm/devices/\(fleet.uemDeviceID)/commands/deliver")
            #expect(delivered.status == 200, "\(delivered.text)")
            let fetched = try #require(delivered.json["Commands"] as? [[String: Any]])
            #expect(fetched.map { $0["Command"] as? String } == ["Message", "Lock"], "oldest first")
            #expect(try await Self.commands(fleet).allSatisfy { $0["Status"] as? String == "Delivered" && $0["DeliveredOn"] is String })
            let again = try await uem.send(.POST, "/API/mdm/devices/\(fleet.uemDeviceID)/commands/deliver")
            #expect((again.json["Commands"] as? [Any])?.isEmpty == true, "a command is delivered once")
            let lockID = try #require(fetched.last?["Id"] as? Int)
            #expect(try await uem.send(.POST, "/API/mdm/devices/\(fleet.uemDeviceID)/commands/\(lockID)/complete").status == 204)
            #expect(try await uem.send(.POST, "/API/mdm/devices/\(fleet.uemDeviceID)/commands/\(lockID)/complete").status == 204, "completing twice is harmless")
            #expect(try await uem.send(.POST, "/API/mdm/devices/\(fleet.uemDeviceID)/commands/999999/complete").status == 404)
            let states = try await Self.commands(fleet)
            #expect(states.first?["Status"] as? String == "Completed" && states.first?["CompletedOn"] is String, "\(states)")
            #expect(states.last?["Status"] as? String == "Delivered")
            let events = try await UEMEvent.query(on: uem.app.db).filter(\.$deviceID == fleet.uemDeviceID).all().map(\.eventType)
            #expect(events.filter { $0 == "DeviceCommandDelivered" }.count == 2 && events.contains("DeviceCommandCompleted"), "\(events)")

            let tagged = try await Wait.until(within: 10) {
                let reply = try await uem.send(.GET, "/API/mdm/devices/\(fleet.uemDeviceID)/tags")
                return (reply.json["tags"] as? [[String: Any]])?.contains { $0["name"] as? String == "Quarantine" } == true
            }
            #expect(tagged != nil, "the Quarantine tag is created and set")
            // Compliance sync reports High for this threat too, so the rule's own call shows in its
            // executions: all four actions succeeded, in order.
            let settled = try await Wait.until(within: 10) {
                let reply = try await uem.sendMTD(.GET, "/api/v1/automations/executions?status=SUCCEEDED", bearer: fleet.owner)
                return (reply.json["executions"] as? [[String: Any]])?.count == 4
            }
            let executions = try await uem.sendMTD(.GET, "/api/v1/automations/executions", bearer: fleet.owner)
            #expect(settled != nil, "\(executions.text)")
            let device = try await uem.send(.GET, "/API/mdm/devices/\(fleet.uemDeviceID)")
            #expect(device.json["MTDThreatLevel"] as? String == "High", "\(device.text)")

            // Each command is audited with the rule and the event that caused it.
            let audit = try await uem.sendMTD(.GET, "/api/v1/audit", bearer: fleet.owner)
            #expect(audit.text.contains("UEM_COMMAND"), "\(audit.text.prefix(2000))")
            #expect(audit.text.contains("Contain a HIGH threat"))
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }

    @Test func wipesNeedAConfirmationAndAnOwnerAndTakeTheDeviceOutOfTheUEMsFleet() async throws {
        let uem = try await UEMServer.start(.sqlite)
        do {
            let fleet = try await Self.fleet(uem, udid: "automation-wipe-phone")
            let unconfirmed = try await uem.sendMTD(.POST, "/api/v1/automations", bearer: fleet.owner,
                                                    json: Self.rule("Wipe", actions: [["type": "uem", "command": "enterpriseWipe"]]))
            #expect(unconfirmed.status == 400, "\(unconfirmed.text)")
            #expect((unconfirmed.json["error"] as? [String: Any])?["field"] as? String == "$.actions[0].confirm", "\(unconfirmed.text)")
            let untagged = try await uem.sendMTD(.POST, "/api/v1/automations", bearer: fleet.owner,
                                               json: Self.rule("Tag", actions: [["type": "uem", "command": "addTag"]]))
            #expect((untagged.json["error"] as? [String: Any])?["field"] as? String == "$.actions[0].tag", "\(untagged.text)")

            // An analyst may write rules, but not one that wipes devices.
            var reply = try await uem.sendMTD(.POST, "/api/v1/admins", bearer: fleet.owner,
                                              json: ["email": "analyst@example.com", "password": "analyst-password-1", "role": "analyst"])
            #expect(reply.status == 201, "\(reply.text)")
            reply = try await uem.sendMTD(.POST, "/api/v1/auth/login", json: ["email": "analyst@example.com", "password": "analyst-password-1"])
            let analyst = try #require(reply.json["token"] as? String)
            let wipe = Self.rule("Wipe on HIGH", actions: [["type": "uem", "command": "enterpriseWipe", "confirm": "enterpriseWipe"]])
            reply = try await uem.sendMTD(.POST, "/api/v1/automations", bearer: analyst, json: wipe)
            #expect(reply.status == 403, "\(reply.text)")
            reply = try await uem.sendMTD(.POST, "/api/v1/automations", bearer: analyst,
                                          json: Self.rule("Lock on HIGH", actions: [["type": "uem", "command": "lock"]]))
            #expect(reply.status == 201, "\(reply.text)")
            let lockRule = try #require(reply.json["id"] as? String)
            reply = try await uem.sendMTD(.DELETE, "/api/v1/automations/\(lockRule)", bearer: analyst)
            #expect(reply.status == 204)
            reply = try await uem.sendMTD(.POST, "/api/v1/automations", bearer: fleet.owner, json: wipe)
            #expect(reply.status == 201, "\(reply.text)")

            try await Self.stalkerwareCheckIn(fleet)
            let wiped = try await Wait.until(within: 20) { try await Self.commands(fleet).first?["Command"] as? String == "EnterpriseWipe" }
            #expect(wiped != nil)
            let device = try await uem.send(.GET, "/API/mdm/devices/\(fleet.uemDeviceID)")
            #expect(device.json["EnrollmentStatus"] as? String == "EnterpriseWipePending", "\(device.text)")
            // The device's MDM agent fetches the wipe and reports it done: it is unenrolled.
            let fetched = try await uem.send(.POST, "/API/mdm/devices/\(fleet.uemDeviceID)/commands/deliver")
            let wipeID = try #require((fetched.json["Commands"] as? [[String: Any]])?.first?["Id"] as? Int, "\(fetched.text)")
            #expect(try await uem.send(.POST, "/API/mdm/devices/\(fleet.uemDeviceID)/commands/\(wipeID)/complete").status == 204)
            let gone = try await uem.send(.GET, "/API/mdm/devices/\(fleet.uemDeviceID)")
            #expect(gone.status == 404, "an unenrolled device leaves the fleet: \(gone.text)")
            let unenrolled = try await UEMDevice.query(on: uem.app.db).filter(\.$id == fleet.uemDeviceID).first()
            #expect(unenrolled?.enrollmentStatus == "Unenrolled")
            let audit = try await uem.sendMTD(.GET, "/api/v1/audit", bearer: fleet.owner)
            #expect(audit.text.contains("enterpriseWipe"), "the wipe is audited: \(audit.text.prefix(2000))")
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }

    /// The fail-closed template: a device that goes silent is reported at HIGH (so the compliance
    /// policy marks it non-compliant and removes Tunnel) and tagged; the level holds while it is
    /// silent (drift repair does not undo it) and lifts when the agent checks in again.
    @Test(arguments: UEMTestDatabase.available)
    func aSilentDeviceFailsClosedInTheUEMAndComesBackWhenItChecksIn(_ database: UEMTestDatabase) async throws {
        let uem = try await UEMServer.start(database) { configuration in
            configuration.connection = .init(unreachableAfterSeconds: 2, disconnectedAfterSeconds: 3_600)
            configuration.sweepIntervalSeconds = 1
        }
        do {
            let fleet = try await Self.fleet(uem, udid: "silent-phone")
            var reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "All Android", "Platforms": ["Android"]])
            let all = try #require(reply.json["SmartGroupID"] as? Int)
            reply = try await uem.send(.POST, "/API/mdm/profiles", json: ["Name": "Workspace ONE Tunnel", "AssignedSmartGroups": [all]])
            let tunnel = try #require(reply.json["ProfileId"] as? Int)
            reply = try await uem.send(.POST, "/API/mdm/compliancepolicies", json: [
                "Name": "MTD threat level", "AssignedSmartGroups": [all],
                "Rules": [["Attribute": "MTDThreatLevel", "Operator": "GreaterThanOrEqual", "Value": "High"]],
                "Actions": [["Type": "MarkNonCompliant"], ["Type": "RemoveProfiles", "ProfileIds": [tunnel]]],
            ])
            #expect(reply.status == 201, "\(reply.text)")
            func device() async throws -> [String: Any] { try await uem.send(.GET, "/API/mdm/devices/\(fleet.uemDeviceID)").json }
            func profiles() async throws -> [String] {
                let reply = try await uem.send(.GET, "/API/mdm/devices/\(fleet.uemDeviceID)/profiles")
                return reply.status == 204 ? [] : (reply.json["DeviceProfiles"] as? [[String: Any]])?.compactMap { $0["Name"] as? String } ?? []
            }

            // The template, with a short delay for the test.
            let templates = try await uem.sendMTD(.GET, "/api/v1/automations/templates", bearer: fleet.owner)
            var rule = try #require((templates.json["templates"] as? [[String: Any]])?.first { $0["id"] as? String == "fail-closed-silent" }?["rule"] as? [String: Any])
            rule["conditions"] = ["stillInStateAfterSeconds": 2]
            reply = try await uem.sendMTD(.POST, "/api/v1/automations", bearer: fleet.owner, json: rule)
            #expect(reply.status == 201, "\(reply.text)")

            let checkIn: [String: Any] = [
                "schemaVersion": 1, "agent": ["mode": "EMBEDDED"], "device": ["platform": "ANDROID", "osVersion": "16", "securityPatchLevel": "2026-11-01"],
                "apps": ["inventoryVersion": 1, "complete": true, "installed": [] as [Any]],
            ]
            reply = try await uem.sendMTD(.POST, "/agent/v1/checkin", bearer: fleet.credential, json: checkIn)
            #expect(reply.json["securityStatus"] as? String == "SECURE", "\(reply.text)")
            #expect(try await Wait.until(within: 10) { try await device()["ComplianceStatus"] as? String == "Compliant" } != nil)
            #expect(try await profiles() == ["Workspace ONE Tunnel"])

            // Silence: unreachable after 2 s, still silent 2 s later.
            let closed = try await Wait.until(within: 20) { try await device()["ComplianceStatus"] as? String == "NonCompliant" }
            let executions = try await uem.sendMTD(.GET, "/api/v1/automations/executions", bearer: fleet.owner)
            #expect(closed != nil, "\(executions.text)")
            #expect(try await device()["MTDThreatLevel"] as? String == "High")
            #expect(try await Wait.until(within: 10) { try await profiles().isEmpty } != nil, "Tunnel is removed")
            // The tag is the rule's second action: it follows the threat level.
            let tagged = try await Wait.until(within: 10) {
                let tags = try await uem.send(.GET, "/API/mdm/devices/\(fleet.uemDeviceID)/tags")
                return (tags.json["tags"] as? [[String: Any]])?.contains { $0["name"] as? String == "MTD – Silent" } == true
            }
            #expect(tagged != nil, "the device is tagged MTD – Silent")

            // Drift repair reconciles every device: the pinned level stays while the device is silent.
            try await uem.app.mtd.uemSync.repairDrift(on: uem.app.db)
            #expect(try await device()["MTDThreatLevel"] as? String == "High", "fail closed holds through a full reconciliation")

            // The agent comes back: compliance sync reports its real level, and Tunnel returns.
            reply = try await uem.sendMTD(.POST, "/agent/v1/checkin", bearer: fleet.credential, json: checkIn)
            #expect(reply.status == 200, "\(reply.text)")
            #expect(try await Wait.until(within: 10) { try await device()["MTDThreatLevel"] as? String == "None" } != nil)
            #expect(try await Wait.until(within: 10) { try await profiles() == ["Workspace ONE Tunnel"] } != nil)
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }

    /// Device-group filters ask the UEM: a rule for a tag the device carries runs, rules for a tag it
    /// lacks or a smart group it is not in do not.
    @Test func rulesFilteredByUEMTagOrSmartGroupActOnlyOnTheirDevices() async throws {
        let uem = try await UEMServer.start(.sqlite)
        do {
            let fleet = try await Self.fleet(uem, udid: "group-phone")
            var reply = try await uem.send(.POST, "/API/mdm/tags/addtag", json: ["TagName": "Executives", "TagType": 1])
            let executives = try #require(reply.json["Value"] as? Int)
            reply = try await uem.send(.POST, "/API/mdm/tags/\(executives)/adddevices", json: ["BulkValues": ["Value": [String(fleet.uemDeviceID)]]])
            #expect(reply.status == 200, "\(reply.text)")
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "iPhones", "Platforms": ["Apple"]])
            let iPhones = try #require(reply.json["SmartGroupID"] as? Int)
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "Android", "Platforms": ["Android"]])
            let android = try #require(reply.json["SmartGroupID"] as? Int)
            for (name, filter) in [("A", ["uemTags": ["executives"]]), ("B", ["uemSmartGroups": [iPhones]]), ("C", ["uemTags": ["Contractors"]]),
                                   ("D", ["uemSmartGroups": [iPhones, android]])] as [(String, [String: Any])] {
                var trigger: [String: Any] = ["type": "THREAT", "change": "CREATED", "minimumSeverity": "HIGH"]
                for (key, value) in filter { trigger[key] = value }
                reply = try await uem.sendMTD(.POST, "/api/v1/automations", bearer: fleet.owner, json: [
                    "name": name, "trigger": trigger, "actions": [["type": "uem", "command": "message", "message": "rule \(name)"]],
                ])
                #expect(reply.status == 201, "\(reply.text)")
            }
            try await Self.stalkerwareCheckIn(fleet)
            #expect(try await Wait.until(within: 20) { try await Self.commands(fleet).count >= 2 } != nil)
            try await Task.sleep(nanoseconds: 1_500_000_000)
            let messages = Set(try await Self.commands(fleet).compactMap { $0["Detail"] as? String })
            #expect(messages == ["rule A", "rule D"], "\(messages)")
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }
}
