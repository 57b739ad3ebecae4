import Fluent
import Foundation

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
        var query = UEMDevice.query(on: database).filter(\.$enrollmentStatus == "Enrolled")
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
        var installedCount = 0, removedCount = 0
        for device in devices {
            guard let deviceID = device.id else { continue }
            let deviceTags = tags[deviceID] ?? []
            func member(_ groupID: Int) -> Bool { criteria[groupID]?.includes(device, tags: deviceTags) ?? false }
            let effective = Set(assignments.filter { $0.assigned.contains(where: member) && !$0.excluded.contains(where: member) }.map(\.id))
            let installed = installedByDevice[deviceID] ?? []
            let current = Set(installed.map(\.profileID))
            for profileID in effective.subtracting(current) {
                try await UEMInstalledProfile(deviceID: deviceID, profileID: profileID, installedAt: now).create(on: database)
                try await UEMEvent(eventType: "ProfileInstalled", deviceID: deviceID, detail: "\(profileID)", eventTime: now).create(on: database)
                installedCount += 1
            }
            for link in installed where !effective.contains(link.profileID) {
                try await link.delete(on: database)
                try await UEMEvent(eventType: "ProfileRemoved", deviceID: deviceID, detail: "\(link.profileID)", eventTime: now).create(on: database)
                removedCount += 1
            }
        }
        return (installedCount, removedCount)
    }
}
