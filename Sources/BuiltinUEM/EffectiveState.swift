import Fluent
import Foundation
import SQLKit

/// A device's effective state in the built-in UEM: smart group membership, compliance and installed
/// profiles. Membership is computed from the criteria whenever it is needed; compliance results,
/// compliance tags and installed profiles are stored, so that every change shows up as an event
/// (ComplianceViolation, ProfileRemoved, …).
enum EffectiveState {
    static func tags(of deviceIDs: [Int]?, on database: any Database) async throws -> [Int: Set<Int>] {
        var query = UEMDeviceTag.query(on: database)
        if let deviceIDs { query = query.filter(\.$deviceID ~~ deviceIDs) }
        var result: [Int: Set<Int>] = [:]
        for link in try await query.all() { result[link.deviceID, default: []].insert(link.tagID) }
        return result
    }

    static func criteria(of group: UEMSmartGroup) -> SmartGroupCriteria {
        (try? JSONDecoder().decode(SmartGroupCriteria.self, from: Data(group.criteria.utf8))) ?? SmartGroupCriteria()
    }

    static func members(of group: UEMSmartGroup, on database: any Database) async throws -> [UEMDevice] {
        let criteria = criteria(of: group)
        let devices = try await UEMDevice.query(on: database).filter(\.$enrollmentStatus == "Enrolled").all()
        let tags = try await tags(of: nil, on: database)
        let tree = try await OrganizationTree.load(on: database)
        return devices.filter { criteria.includes($0, tags: tags[$0.id ?? -1] ?? [], tree: tree) }
    }

    static func ids(_ text: String) -> [Int] {
        (try? JSONDecoder().decode([Int].self, from: Data(text.utf8))) ?? []
    }

    static func strings(_ text: String) -> [String] {
        (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
    }

    static func definition(of policy: UEMCompliancePolicy) -> ComplianceDefinition {
        (try? JSONDecoder().decode(ComplianceDefinition.self, from: Data(policy.definition.utf8))) ?? ComplianceDefinition(MatchAll: false, Rules: [], Actions: [])
    }

    struct Outcome: Sendable, Equatable {
        var installed = 0
        var removed = 0
        var complianceChanged = 0
    }

    /// Brings every given device (all when nil) to its effective state: compliance evaluated, the
    /// tags compliance actions add or take away, and exactly its effective profiles installed.
    @discardableResult
    static func reconcile(devices deviceIDs: [Int]?, on database: any Database, now: Date = Date()) async throws -> Outcome {
        guard let sql = database as? any SQLDatabase else { throw UEMError.invalid("The built-in UEM needs an SQL database.") }
        // Unenrolled devices are included: their effective set is empty, so their profiles are removed.
        var query = UEMDevice.query(on: database)
        if let deviceIDs { query = query.filter(\.$id ~~ deviceIDs) }
        let devices = try await query.all()
        let tags = try await tags(of: deviceIDs, on: database)
        let tree = try await OrganizationTree.load(on: database)
        let groups = try await UEMSmartGroup.query(on: database).all()
        let criteria = Dictionary(uniqueKeysWithValues: groups.compactMap { group in group.id.map { ($0, Self.criteria(of: group)) } })
        let profiles = try await UEMProfile.query(on: database).all().compactMap { profile in
            profile.id.map { (id: $0, platform: profile.platform, assigned: ids(profile.assignedSmartGroups), excluded: ids(profile.excludedSmartGroups)) }
        }
        let policies = try await UEMCompliancePolicy.query(on: database).filter(\.$active == true).all().compactMap { policy in
            policy.id.map { (id: $0, name: policy.name, platform: policy.platform, assigned: ids(policy.assignedSmartGroups), definition: definition(of: policy)) }
        }
        // One query each for the devices' installed profiles and compliance results, not one per device.
        var installedQuery = UEMInstalledProfile.query(on: database)
        var complianceQuery = UEMDeviceCompliance.query(on: database)
        if let deviceIDs {
            installedQuery = installedQuery.filter(\.$deviceID ~~ deviceIDs)
            complianceQuery = complianceQuery.filter(\.$deviceID ~~ deviceIDs)
        }
        let installedByDevice = Dictionary(grouping: try await installedQuery.all(), by: \.deviceID)
        let complianceByDevice = Dictionary(grouping: try await complianceQuery.all(), by: \.deviceID)
        let policyByID = Dictionary(uniqueKeysWithValues: policies.map { ($0.id, $0) })

        var installs: [(device: Int, profile: Int)] = []
        var removals: [UEMInstalledProfile] = []
        var tagAdds: [(device: Int, tag: Int)] = []
        var tagRemovals: [(device: Int, tag: Int)] = []
        var staleResults: [Int] = []
        var newResults: [(device: Int, policy: Int, compliant: Bool, actions: [String])] = []
        var statusChanges: [String: [Int]] = [:]
        var events: [(type: String, device: Int, detail: String)] = []

        for device in devices {
            guard let deviceID = device.id else { continue }
            let enrolled = device.enrollmentStatus == "Enrolled"
            var deviceTags = tags[deviceID] ?? []
            func member(_ groupID: Int) -> Bool { criteria[groupID]?.includes(device, tags: deviceTags, tree: tree) ?? false }
            func platformMatches(_ platform: String) -> Bool { platform == "Any" || platform.caseInsensitiveCompare(device.platform) == .orderedSame }

            // Compliance first: its actions change tags, and tags change smart group membership.
            let facts = DeviceFacts(device)
            let previous = Dictionary((complianceByDevice[deviceID] ?? []).map { ($0.policyID, $0) }, uniquingKeysWith: { first, _ in first })
            var nonCompliant = false
            var removeAllProfiles = false
            var removedProfiles = Set<Int>()
            var wantedTags = Set<Int>()
            var releasedTags = Set<Int>()
            var applicable = Set<Int>()
            for policy in policies where enrolled && platformMatches(policy.platform) && policy.assigned.contains(where: member) {
                applicable.insert(policy.id)
                let broken = policy.definition.isBroken(by: facts)
                let taken = broken ? policy.definition.Actions.map(\.kind) : []
                if broken {
                    nonCompliant = nonCompliant || !policy.definition.actions(.markNonCompliant).isEmpty
                    for action in policy.definition.actions(.removeProfiles) {
                        if let ids = action.ProfileIds, !ids.isEmpty { removedProfiles.formUnion(ids) } else { removeAllProfiles = true }
                    }
                    wantedTags.formUnion(policy.definition.actions(.addTag).compactMap(\.TagId))
                } else if previous[policy.id]?.compliant == false {
                    releasedTags.formUnion(policy.definition.actions(.addTag).compactMap(\.TagId))
                }
                let before = previous[policy.id]
                if before?.compliant != !broken || before.map({ strings($0.actionsTaken).isEmpty }) != taken.isEmpty {
                    if let row = before?.id { staleResults.append(row) }
                    newResults.append((deviceID, policy.id, !broken, taken))
                    if broken {
                        events.append(("ComplianceViolation", deviceID, policy.name))
                        for action in policy.definition.actions(.notify) { events.append(("ComplianceNotification", deviceID, "\(policy.name) → \(action.Email ?? "")")) }
                    } else if before != nil {
                        events.append(("ComplianceRestored", deviceID, policy.name))
                    }
                }
            }
            // Results of policies that no longer apply (unassigned, deleted, device left the group) go away with their tags.
            for (policyID, row) in previous where !applicable.contains(policyID) {
                if let id = row.id { staleResults.append(id) }
                if !row.compliant, let policy = policyByID[policyID] {
                    releasedTags.formUnion(policy.definition.actions(.addTag).compactMap(\.TagId))
                }
            }
            for tag in wantedTags.subtracting(deviceTags).sorted() {
                tagAdds.append((deviceID, tag))
                deviceTags.insert(tag)
            }
            for tag in releasedTags.subtracting(wantedTags).intersection(deviceTags).sorted() {
                tagRemovals.append((deviceID, tag))
                deviceTags.remove(tag)
            }
            let status = enrolled ? (nonCompliant ? "NonCompliant" : "Compliant") : device.complianceStatus
            if status != device.complianceStatus {
                statusChanges[status, default: []].append(deviceID)
                events.append(("ComplianceStatusChanged", deviceID, status))
            }

            let effective: Set<Int> = enrolled ? Set(profiles.filter { profile in
                platformMatches(profile.platform) && profile.assigned.contains(where: member) && !profile.excluded.contains(where: member)
                    && !removeAllProfiles && !removedProfiles.contains(profile.id)
            }.map(\.id)) : []
            let installed = installedByDevice[deviceID] ?? []
            let current = Set(installed.map(\.profileID))
            installs += effective.subtracting(current).sorted().map { (deviceID, $0) }
            removals += installed.filter { !effective.contains($0.profileID) }
        }

        // A bulk tag call changes hundreds of devices: write the outcome in a few statements.
        if !removals.isEmpty {
            try await sql.delete(from: UEMInstalledProfile.schema).where("id", .in, removals.compactMap(\.id)).run()
        }
        if !installs.isEmpty {
            var insert = sql.insert(into: UEMInstalledProfile.schema).columns("device_id", "profile_id", "installed_at")
            for install in installs { insert = insert.values([SQLBind(install.device), SQLBind(install.profile), SQLBind(now)]) }
            try await insert.run()
        }
        for removal in tagRemovals {
            try await sql.delete(from: UEMDeviceTag.schema).where("device_id", .equal, removal.device).where("tag_id", .equal, removal.tag).run()
        }
        if !tagAdds.isEmpty {
            var insert = sql.insert(into: UEMDeviceTag.schema).columns("tag_id", "device_id", "date_tagged")
            for add in tagAdds { insert = insert.values([SQLBind(add.tag), SQLBind(add.device), SQLBind(now)]) }
            try await insert.run()
        }
        if !staleResults.isEmpty {
            try await sql.delete(from: UEMDeviceCompliance.schema).where("id", .in, staleResults).run()
        }
        if !newResults.isEmpty {
            var insert = sql.insert(into: UEMDeviceCompliance.schema).columns("device_id", "policy_id", "compliant", "checked_at", "actions_taken")
            for result in newResults {
                let actions = String(decoding: try JSONEncoder().encode(result.actions), as: UTF8.self)
                insert = insert.values([SQLBind(result.device), SQLBind(result.policy), SQLBind(result.compliant), SQLBind(now), SQLBind(actions)])
            }
            try await insert.run()
        }
        for (status, ids) in statusChanges {
            try await sql.update(UEMDevice.schema).set("compliance_status", to: status).where("id", .in, ids).run()
        }
        events += installs.map { ("ProfileInstalled", $0.device, "\($0.profile)") } + removals.map { ("ProfileRemoved", $0.deviceID, "\($0.profileID)") }
        events += tagAdds.map { ("ComplianceTagAdded", $0.device, "\($0.tag)") } + tagRemovals.map { ("ComplianceTagRemoved", $0.device, "\($0.tag)") }
        if !events.isEmpty {
            var insert = sql.insert(into: UEMEvent.schema).columns("event_type", "device_id", "detail", "event_time")
            for event in events { insert = insert.values([SQLBind(event.type), SQLBind(event.device), SQLBind(event.detail), SQLBind(now)]) }
            try await insert.run()
        }
        return Outcome(installed: installs.count, removed: removals.count, complianceChanged: statusChanges.values.reduce(0) { $0 + $1.count })
    }
}
