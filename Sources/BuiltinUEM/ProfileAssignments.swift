import Fluent
import Foundation
import SQLKit

/// Smart group membership and effective profiles. Membership is computed from the criteria whenever
/// it is needed; the installed profiles are stored, so that a change of membership shows up as
/// ProfileInstalled and ProfileRemoved events.
enum ProfileAssignments {
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
        return devices.filter { criteria.includes($0, tags: tags[$0.id ?? -1] ?? []) }
    }

    static func ids(_ text: String) -> [Int] {
        (try? JSONDecoder().decode([Int].self, from: Data(text.utf8))) ?? []
    }

    /// Installs and removes profiles so that every given device (all when nil) has exactly its effective profiles.
    @discardableResult
    static func reconcile(devices deviceIDs: [Int]?, on database: any Database, now: Date = Date()) async throws -> (installed: Int, removed: Int) {
        // Unenrolled devices are included: their effective set is empty, so their profiles are removed.
        var query = UEMDevice.query(on: database)
        if let deviceIDs { query = query.filter(\.$id ~~ deviceIDs) }
        let devices = try await query.all()
        let tags = try await tags(of: deviceIDs, on: database)
        let groups = try await UEMSmartGroup.query(on: database).all()
        let criteria = Dictionary(uniqueKeysWithValues: groups.compactMap { group in group.id.map { ($0, Self.criteria(of: group)) } })
        let profiles = try await UEMProfile.query(on: database).all()
        let assignments = profiles.compactMap { profile in
            profile.id.map { (id: $0, assigned: ids(profile.assignedSmartGroups), excluded: ids(profile.excludedSmartGroups)) }
        }
        // One query for all the devices' installed profiles, not one per device.
        var installedQuery = UEMInstalledProfile.query(on: database)
        if let deviceIDs { installedQuery = installedQuery.filter(\.$deviceID ~~ deviceIDs) }
        let installedByDevice = Dictionary(grouping: try await installedQuery.all(), by: \.deviceID)
        var installs: [(device: Int, profile: Int)] = []
        var removals: [UEMInstalledProfile] = []
        for device in devices {
            guard let deviceID = device.id else { continue }
            let deviceTags = tags[deviceID] ?? []
            func member(_ groupID: Int) -> Bool { criteria[groupID]?.includes(device, tags: deviceTags) ?? false }
            let enrolled = device.enrollmentStatus == "Enrolled"
            let effective = enrolled ? Set(assignments.filter { $0.assigned.contains(where: member) && !$0.excluded.contains(where: member) }.map(\.id)) : []
            let installed = installedByDevice[deviceID] ?? []
            let current = Set(installed.map(\.profileID))
            installs += effective.subtracting(current).sorted().map { (deviceID, $0) }
            removals += installed.filter { !effective.contains($0.profileID) }
        }
        // A bulk tag call changes hundreds of devices: write the outcome in a few statements.
        if let sql = database as? any SQLDatabase {
            if !removals.isEmpty {
                try await sql.delete(from: UEMInstalledProfile.schema).where("id", .in, removals.compactMap(\.id)).run()
            }
            if !installs.isEmpty {
                var insert = sql.insert(into: UEMInstalledProfile.schema).columns("device_id", "profile_id", "installed_at")
                for install in installs { insert = insert.values([SQLBind(install.device), SQLBind(install.profile), SQLBind(now)]) }
                try await insert.run()
            }
            let events = installs.map { ("ProfileInstalled", $0.device, $0.profile) } + removals.map { ("ProfileRemoved", $0.deviceID, $0.profileID) }
            if !events.isEmpty {
                var insert = sql.insert(into: UEMEvent.schema).columns("event_type", "device_id", "detail", "event_time")
                for (type, device, profile) in events { insert = insert.values([SQLBind(type), SQLBind(device), SQLBind("\(profile)"), SQLBind(now)]) }
                try await insert.run()
            }
        } else {
            for install in installs {
                try await UEMInstalledProfile(deviceID: install.device, profileID: install.profile, installedAt: now).create(on: database)
                try await UEMEvent(eventType: "ProfileInstalled", deviceID: install.device, detail: "\(install.profile)", eventTime: now).create(on: database)
            }
            for removal in removals {
                try await removal.delete(on: database)
                try await UEMEvent(eventType: "ProfileRemoved", deviceID: removal.deviceID, detail: "\(removal.profileID)", eventTime: now).create(on: database)
            }
        }
        let installedCount = installs.count, removedCount = removals.count
        return (installedCount, removedCount)
    }
}
