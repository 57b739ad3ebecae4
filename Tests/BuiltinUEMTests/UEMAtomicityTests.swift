import Foundation
import SQLKit
import Testing

/// A UEM change and the reconciliation it causes (profiles, compliance) commit together, so a
/// failure in between never leaves a device whose profiles a retry would not fix.
@Suite(.serialized) struct UEMAtomicityTests {
    @Test(arguments: UEMTestDatabase.available) func aTagChangeAndItsProfilesCommitTogether(_ database: UEMTestDatabase) async throws {
        let uem = try await UEMServer.start(database)
        do {
            var reply = try await uem.send(.POST, "/API/mdm/devices/enroll", json: [
                "Udid": "atomic-1", "SerialNumber": "SNA1", "Platform": "Apple", "Model": "iPhone16,1", "OperatingSystem": "26.6.1",
                "Ownership": "C", "UserName": "ann", "UserEmailAddress": "ann@example.com",
            ])
            let deviceID = try #require((reply.json["Id"] as? [String: Any])?["Value"] as? Int, "\(reply.text)")
            reply = try await uem.send(.POST, "/API/mdm/tags/addtag", json: ["TagName": "MTD – High Risk", "TagType": 1])
            let tagID = try #require(reply.json["Value"] as? Int)
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "All Apple", "Platforms": ["Apple"]])
            let allGroup = try #require(reply.json["SmartGroupID"] as? Int)
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "MTD High Risk", "Tags": [["Id": tagID]]])
            let riskGroup = try #require(reply.json["SmartGroupID"] as? Int)
            reply = try await uem.send(.POST, "/API/mdm/profiles", json: ["Name": "Tunnel", "AssignedSmartGroups": [allGroup], "ExcludedSmartGroups": [riskGroup]])
            #expect(reply.status == 201, "\(reply.text)")
            #expect(try await UEMStoryTests().profiles(uem, deviceID) == ["Tunnel"])

            // The reconciliation step fails (its table is away): the tag must not stay applied alone.
            let sql = try #require(uem.app.db as? any SQLDatabase)
            try await sql.raw("ALTER TABLE uem_installed_profiles RENAME TO uem_installed_profiles_away").run()
            reply = try await uem.send(.POST, "/API/mdm/tags/\(tagID)/adddevices", json: ["BulkValues": ["Value": ["\(deviceID)"]]])
            #expect(reply.status >= 500, "\(reply.text)")
            try await sql.raw("ALTER TABLE uem_installed_profiles_away RENAME TO uem_installed_profiles").run()
            reply = try await uem.send(.GET, "/API/mdm/tags/\(tagID)/devices")
            #expect((reply.json["Device"] as? [[String: Any]] ?? []).isEmpty, "the failed call left the tag applied: \(reply.text)")

            // The retry applies the tag and removes the profile.
            reply = try await uem.send(.POST, "/API/mdm/tags/\(tagID)/adddevices", json: ["BulkValues": ["Value": ["\(deviceID)"]]])
            #expect(reply.status == 200 && reply.json["AcceptedItems"] as? Int == 1, "\(reply.text)")
            #expect(try await UEMStoryTests().profiles(uem, deviceID).isEmpty)

            // The same holds for the compliance threat level.
            try await sql.raw("ALTER TABLE uem_installed_profiles RENAME TO uem_installed_profiles_away").run()
            reply = try await uem.send(.POST, "/API/mdm/devices/mtdthreatlevel", json: ["ThreatLevel": "High", "BulkValues": ["Value": ["\(deviceID)"]]])
            try await sql.raw("ALTER TABLE uem_installed_profiles_away RENAME TO uem_installed_profiles").run()
            #expect(reply.status >= 500, "\(reply.text)")
            reply = try await uem.send(.GET, "/API/mdm/devices/\(deviceID)")
            #expect(reply.status == 200)
            #expect(reply.json["MTDThreatLevel"] as? String == nil, "the failed call left the threat level set: \(reply.text)")
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }
}
