import Fluent
import Foundation
import MTDCore
import Vapor

/// `/API/mdm/smartgroups` and `/API/mdm/profiles`.
enum UEMSmartGroupController {
    static func create(_ req: Request) async throws -> Response {
        let principal = try req.uem
        try principal.require(.groups, .edit)
        let body = try req.content.decode(WS1SmartGroupRequest.self)
        let group = UEMSmartGroup()
        group.uuid = UUID()
        try await apply(body, to: group, principal: principal, on: req.db)
        try await req.db.uemChange { tx in
            try await group.create(on: tx)
            try await EffectiveState.reconcile(devices: nil, on: tx)
        }
        var created = try await describe(group, on: req.db)
        created.Value = try group.requireID()
        return try await created.encodeResponse(status: .created, for: req)
    }

    /// `PUT /API/mdm/smartgroups/{id}`: new name and criteria; profiles, compliance and app
    /// configuration follow at once.
    static func update(_ req: Request) async throws -> Response {
        let principal = try req.uem
        try principal.require(.groups, .edit)
        let body = try req.content.decode(WS1SmartGroupRequest.self)
        let group = try await find(req)
        try await apply(body, to: group, principal: principal, on: req.db)
        try await req.db.uemChange { tx in
            try await group.update(on: tx)
            try await EffectiveState.reconcile(devices: nil, on: tx)
        }
        return try await describe(group, on: req.db).encodeResponse(for: req)
    }

    /// `DELETE /API/mdm/smartgroups/{id}`. A group that a profile, compliance policy or app
    /// configuration assigns or excludes is refused: deleting an exclusion group silently would hand
    /// the excluded devices (High Risk ones, say) what they were kept from.
    static func delete(_ req: Request) async throws -> HTTPStatus {
        try req.uem.require(.groups, .edit)
        let group = try await find(req)
        let id = try group.requireID()
        var users: [String] = []
        for profile in try await UEMProfile.query(on: req.db).all()
        where (EffectiveState.ids(profile.assignedSmartGroups) + EffectiveState.ids(profile.excludedSmartGroups)).contains(id) {
            users.append("profile \(profile.name)")
        }
        for policy in try await UEMCompliancePolicy.query(on: req.db).all() where EffectiveState.ids(policy.assignedSmartGroups).contains(id) {
            users.append("compliance policy \(policy.name)")
        }
        for configuration in try await UEMAppConfiguration.query(on: req.db).all() where EffectiveState.ids(configuration.assignedSmartGroups).contains(id) {
            users.append("app configuration \(configuration.name)")
        }
        guard users.isEmpty else {
            throw UEMError(status: .badRequest, errorCode: 1000,
                           message: "Smart group \(group.name) is in use by \(users.prefix(5).joined(separator: ", ")); remove it from their assignments first.")
        }
        try await req.db.uemChange { tx in
            try await group.delete(on: tx)
            try await EffectiveState.reconcile(devices: nil, on: tx)
        }
        return .noContent
    }

    /// Name, criteria and managing organization group from a create or update body, checked.
    private static func apply(_ body: WS1SmartGroupRequest, to group: UEMSmartGroup, principal: UEMPrincipal, on database: any Database) async throws {
        var prefixes: [String] = []
        var rules: [SmartGroupOSRule] = []
        for (index, entry) in (body.OperatingSystems ?? []).enumerated() {
            switch entry {
            case .prefix(let text): prefixes.append(text)
            case .rule(let rule):
                guard SmartGroupOSRule.Comparison(spelled: rule.Operator) != nil else {
                    throw UEMError.invalid("OperatingSystems[\(index)].Operator must be one of "
                        + SmartGroupOSRule.Comparison.allCases.map(\.rawValue).joined(separator: ", ") + ", not \(rule.Operator.prefix(40)).")
                }
                rules.append(rule)
            }
        }
        let criteria = SmartGroupCriteria(
            tagIDs: body.Tags?.map(\.Id.value) ?? [], platforms: body.Platforms ?? [], ownerships: body.Ownerships ?? [],
            models: body.Models ?? [], operatingSystems: prefixes,
            organizationGroupIDs: body.OrganizationGroups?.map(\.Id.value) ?? [],
            deviceAdditions: body.DeviceAdditions?.map(\.Id.value) ?? [], deviceExclusions: body.DeviceExclusions?.map(\.Id.value) ?? [],
            osRules: rules.isEmpty ? nil : rules)
        for tagID in criteria.tagIDs where try await UEMTag.find(tagID, on: database) == nil {
            throw UEMError.invalid("Tag \(tagID) does not exist.")
        }
        group.name = body.Name
        group.organizationGroupID = try await UEMSystemController.groupInScope(body.ManagedByOrganizationGroupId?.value, of: principal, on: database)
        group.criteria = String(decoding: try JSONEncoder().encode(criteria), as: UTF8.self)
    }

    static func get(_ req: Request) async throws -> WS1SmartGroup {
        try req.uem.require(.groups, .read)
        return try await describe(try await find(req), on: req.db)
    }

    static func search(_ req: Request) async throws -> Response {
        try req.uem.require(.groups, .read)
        var query = UEMSmartGroup.query(on: req.db)
        if let name = req.query[String.self, at: "name"], !name.isEmpty { query = query.filter(\.$name, .custom("LIKE"), "%\(name)%") }
        let window = try req.uemPage
        let total = try await query.copy().count()
        let groups = try await query.sort(\.$id).range(window.range).all()
        return try UEMPaging.response("SmartGroups", items: try await groups.asyncMap { try await describe($0, on: req.db) }, total: total, page: window.page, size: window.size, for: req)
    }

    static func devices(_ req: Request) async throws -> Response {
        try req.uem.require(.groups, .read)
        let members = try await EffectiveState.members(of: try await find(req), on: req.db)
        // Workspace ONE's SmartGroupDevice: the id is a string there.
        struct Item: Content {
            var Id: String
            var Name: String
            var Model: String?
            var OSVersion: String?
            var Username: String
            var Platform: String
            var Ownership: String
        }
        struct Body: Content {
            var Devices: [Item]
        }
        return try await Body(Devices: members.map { device in
            Item(Id: String(device.id ?? 0), Name: device.friendlyName, Model: device.model, OSVersion: device.operatingSystem,
                 Username: device.userName, Platform: device.platform, Ownership: device.ownership)
        }).encodeResponse(for: req)
    }

    static func describe(_ group: UEMSmartGroup, on database: any Database) async throws -> WS1SmartGroup {
        let criteria = EffectiveState.criteria(of: group)
        let tags = try await UEMTag.query(on: database).filter(\.$id ~~ criteria.tagIDs).all()
        return WS1SmartGroup(
            Name: group.name, SmartGroupID: group.id ?? 0, SmartGroupUuid: group.uuid.uuidString.lowercased(),
            ManagedByOrganizationGroupId: group.organizationGroupID, Devices: try await EffectiveState.members(of: group, on: database).count,
            Tags: tags.map { .init(Id: WS1FlexibleID($0.id ?? 0), Name: $0.name) }, Platforms: criteria.platforms, Ownerships: criteria.ownerships,
            DeviceAdditions: criteria.deviceAdditions.map { .init(Id: WS1FlexibleID($0), Name: nil) },
            DeviceExclusions: criteria.deviceExclusions.map { .init(Id: WS1FlexibleID($0), Name: nil) })
    }

    static func find(_ req: Request) async throws -> UEMSmartGroup {
        guard let id = req.parameters.get("id", as: Int.self), let group = try await UEMSmartGroup.find(id, on: req.db) else {
            throw UEMError.notFound("Smart group", code: 5063)
        }
        return group
    }
}

enum UEMProfileController {
    static func create(_ req: Request) async throws -> Response {
        let principal = try req.uem
        try principal.require(.profiles, .edit)
        let body = try req.content.decode(WS1ProfileRequest.self)
        for id in body.AssignedSmartGroups + (body.ExcludedSmartGroups ?? []) where try await UEMSmartGroup.find(id, on: req.db) == nil {
            throw UEMError.invalid("Smart group \(id) does not exist.")
        }
        let profile = UEMProfile()
        profile.uuid = UUID()
        profile.name = body.Name
        profile.platform = body.Platform ?? "Any"
        profile.organizationGroupID = principal.organizationGroupID
        profile.assignedSmartGroups = String(decoding: try JSONEncoder().encode(body.AssignedSmartGroups), as: UTF8.self)
        profile.excludedSmartGroups = String(decoding: try JSONEncoder().encode(body.ExcludedSmartGroups ?? []), as: UTF8.self)
        if let settings = body.DnsSettings {
            try settings.validate(platform: profile.platform)
            profile.dnsSettings = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        }
        try await req.db.uemChange { tx in
            try await profile.create(on: tx)
            try await EffectiveState.reconcile(devices: nil, on: tx)
        }
        return try await describe(profile, on: req.db).encodeResponse(status: .created, for: req)
    }

    static func get(_ req: Request) async throws -> WS1Profile {
        try req.uem.require(.profiles, .read)
        guard let id = req.parameters.get("id", as: Int.self), let profile = try await UEMProfile.find(id, on: req.db) else {
            throw UEMError.notFound("Profile", code: 5064)
        }
        return try await describe(profile, on: req.db)
    }

    /// `GET /API/mdm/profiles/search` (v1): `profilename` (contained), `platform`,
    /// `organizationgroupid` (that group and those below it), paged; `{"ProfileList":[…], Page, PageSize, Total}`.
    static func search(_ req: Request) async throws -> Response {
        let principal = try req.uem
        try principal.require(.profiles, .read)
        var query = UEMProfile.query(on: req.db)
        if let name = req.query[String.self, at: "profilename"], !name.isEmpty { query = query.filter(\.$name, .custom("LIKE"), "%\(name)%") }
        if let platform = req.query[String.self, at: "platform"], !platform.isEmpty { query = query.filter(\.$platform == platform) }
        let root = try await UEMSystemController.groupInScope(req.query[Int.self, at: "organizationgroupid"], of: principal, on: req.db)
        let tree = try await OrganizationTree.load(on: req.db)
        let scope = tree.subtree(of: root, among: try await UEMOrganizationGroup.query(on: req.db).all().compactMap(\.id))
        query = query.filter(\.$organizationGroupID ~~ scope)
        let window = try req.uemPage
        let total = try await query.copy().count()
        let profiles = try await query.sort(\.$id).range(window.range).all()
        let groups = try await UEMSystemController.groupsByID(on: req.db)
        struct Item: Content {
            var ProfileId: Int
            var ProfileName: String
            var ProfileUuid: String
            var Platform: String
            var Status: String
            var AssignmentType: String
            var ManagedBy: String
            var OrganizationGroupUuid: String
        }
        return try UEMPaging.response("ProfileList", items: profiles.map { profile in
            Item(ProfileId: profile.id ?? 0, ProfileName: profile.name, ProfileUuid: profile.uuid.uuidString.lowercased(), Platform: profile.platform,
                 Status: "Active", AssignmentType: "Auto", ManagedBy: groups[profile.organizationGroupID]?.name ?? "",
                 OrganizationGroupUuid: groups[profile.organizationGroupID]?.uuid.uuidString.lowercased() ?? "")
        }, total: total, page: window.page, size: window.size, for: req)
    }

    static func describe(_ profile: UEMProfile, on database: any Database) async throws -> WS1Profile {
        let assigned = EffectiveState.ids(profile.assignedSmartGroups)
        let excluded = EffectiveState.ids(profile.excludedSmartGroups)
        let names = Dictionary(try await UEMSmartGroup.query(on: database).filter(\.$id ~~ (assigned + excluded)).all().compactMap { group in group.id.map { ($0, group.name) } },
                               uniquingKeysWith: { first, _ in first })
        return WS1Profile(
            ProfileId: profile.id ?? 0, Uuid: profile.uuid.uuidString.lowercased(), Name: profile.name, Platform: profile.platform,
            AssignedSmartGroups: assigned.map { .init(SmartGroupId: $0, Name: names[$0] ?? "") },
            ExcludedSmartGroups: excluded.map { .init(SmartGroupId: $0, Name: names[$0] ?? "") },
            DnsSettings: try dnsSettings(of: profile))
    }

    static func dnsSettings(of profile: UEMProfile) throws -> UEMDNSSettings? {
        try profile.dnsSettings.map { try JSONDecoder().decode(UEMDNSSettings.self, from: Data($0.utf8)) }
    }

    /// `GET /API/mdm/devices/{id}/profiles/{profileId}/payload` (an OpenMTD addition): what the
    /// device receives for an installed "DNS settings" profile, lookups resolved. Apple devices get
    /// the configuration profile (property list), Android devices the Private DNS policy (JSON).
    static func devicePayload(_ req: Request) async throws -> Response {
        try req.uem.require(.devices, .read)
        let device = try await UEMDeviceController.find(req)
        let deviceID = try device.requireID()
        guard let profileID = req.parameters.get("profileId", as: Int.self), let profile = try await UEMProfile.find(profileID, on: req.db) else {
            throw UEMError.notFound("Profile", code: 5064)
        }
        guard try await UEMInstalledProfile.query(on: req.db).filter(\.$deviceID == deviceID).filter(\.$profileID == profileID).first() != nil else {
            throw UEMError.notFound("Profile \(profileID) on device \(deviceID) (it is not assigned, or the device is excluded)", code: 5064)
        }
        guard let settings = try dnsSettings(of: profile) else {
            throw UEMError.invalid("Profile \(profileID) has no payload to render; only DNS settings profiles do")
        }
        let resolved = settings.resolved(try await LookupValues.values(for: device, on: req))
        var headers = HTTPHeaders()
        if device.platform == "Android" {
            headers.contentType = .json
            return Response(status: .ok, headers: headers,
                            body: .init(data: try JSONSerialization.data(withJSONObject: resolved.androidPolicy(), options: [.sortedKeys])))
        }
        headers.replaceOrAdd(name: .contentType, value: "application/x-apple-aspen-config")
        return Response(status: .ok, headers: headers, body: .init(string: try resolved.appleProfile(profileName: profile.name, profileUUID: profile.uuid)))
    }
}
