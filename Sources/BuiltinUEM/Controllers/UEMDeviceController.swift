import Fluent
import Foundation
import MTDCore
import Vapor

/// `/API/mdm/devices`: search, one device, its tags and profiles; enrolment and unenrolment.
enum UEMDeviceController {
    static func search(_ req: Request) async throws -> Response {
        let principal = try req.uem
        try principal.require(.devices, .read)
        // The caller's organization group and everything below it, or the subtree `lgid` names.
        let root = try await UEMSystemController.groupInScope(req.query[Int.self, at: "lgid"] ?? req.query[Int.self, at: "organizationgroupid"], of: principal, on: req.db)
        let tree = try await OrganizationTree.load(on: req.db)
        let scope = tree.subtree(of: root, among: try await UEMOrganizationGroup.query(on: req.db).all().compactMap(\.id))
        var query = UEMDevice.query(on: req.db).filter(\.$enrollmentStatus == "Enrolled").filter(\.$organizationGroupID ~~ scope)
        if let platform = req.query[String.self, at: "platform"] { query = query.filter(\.$platform == platform) }
        if let user = req.query[String.self, at: "user"] { query = query.filter(\.$userName == user) }
        if let ownership = req.query[String.self, at: "ownership"] { query = query.filter(\.$ownership == ownership) }
        let window = try req.uemPage
        let total = try await query.copy().count()
        let devices = try await query.sort(\.$id).range(window.range).all()
        let groups = try await groupsByID(req)
        return try UEMPaging.response("Devices", items: devices.map { WS1Device($0, group: groups[$0.organizationGroupID]) }, total: total, page: window.page, size: window.size, for: req)
    }

    static func get(_ req: Request) async throws -> WS1Device {
        try req.uem.require(.devices, .read)
        let device = try await find(req, wipePending: true)
        return WS1Device(device, group: try await groupsByID(req)[device.organizationGroupID])
    }

    /// `GET /API/mdm/devices?searchby=Udid|Serialnumber|Macaddress|ImeiNumber|DeviceId&id=…`: the one
    /// enrolled device with that identity (Workspace ONE's most used lookup), or 404.
    static func lookup(_ req: Request) async throws -> WS1Device {
        try req.uem.require(.devices, .read)
        let device = try await UEMDeviceSearch.find(req)
        return WS1Device(device, group: try await groupsByID(req)[device.organizationGroupID])
    }

    /// `GET /API/mdm/devices/udid/{udid}`.
    static func byUDID(_ req: Request) async throws -> WS1Device {
        try req.uem.require(.devices, .read)
        guard let udid = req.parameters.get("udid"), !udid.isEmpty,
              let device = try await UEMDevice.query(on: req.db).filter(\.$udid == udid).filter(\.$enrollmentStatus == "Enrolled").first()
        else { throw UEMError.notFound("Device") }
        return WS1Device(device, group: try await groupsByID(req)[device.organizationGroupID])
    }

    /// Workspace ONE's `DeviceSecurityInfo`. The built-in UEM has no MDM channel that queries a phone's
    /// encryption or passcode, so only what it knows is present: whether the device is compromised.
    struct SecurityInfo: Content {
        var IsCompromised: Bool
    }

    /// `GET /API/mdm/devices/{id}/security`.
    static func security(_ req: Request) async throws -> SecurityInfo {
        try req.uem.require(.devices, .read)
        return SecurityInfo(IsCompromised: try await find(req).compromised)
    }

    /// `GET /API/mdm/devices/security?searchby=&id=`.
    static func securityBySearch(_ req: Request) async throws -> SecurityInfo {
        try req.uem.require(.devices, .read)
        return SecurityInfo(IsCompromised: try await UEMDeviceSearch.find(req).compromised)
    }

    struct AssignedSmartGroups: Content {
        struct Group: Content {
            struct ID: Content { var Value: Int }
            var SmartGroupId: ID
            var SmartGroupName: String
        }

        var SmartGroup: [Group]
    }

    /// `GET /API/mdm/devices/{id}/smartgroups`: the smart groups whose criteria the device meets now.
    static func smartGroups(_ req: Request) async throws -> AssignedSmartGroups {
        try req.uem.require(.devices, .read)
        let device = try await find(req)
        let tags = try await EffectiveState.tags(of: device.id.map { [$0] } ?? [], on: req.db)
        let tree = try await OrganizationTree.load(on: req.db)
        let groups = try await UEMSmartGroup.query(on: req.db).sort(\.$id).all().filter { group in
            EffectiveState.criteria(of: group).includes(device, tags: tags[device.id ?? -1] ?? [], tree: tree)
        }
        return AssignedSmartGroups(SmartGroup: groups.map { .init(SmartGroupId: .init(Value: $0.id ?? 0), SmartGroupName: $0.name) })
    }

    static func tags(_ req: Request) async throws -> Response {
        try req.uem.require(.tags, .read)
        let device = try await find(req)
        let links = try await UEMDeviceTag.query(on: req.db).filter(\.$deviceID == (device.id ?? -1)).all()
        let tags = try await UEMTag.query(on: req.db).filter(\.$id ~~ links.map(\.tagID)).all()
        struct Item: Content {
            var uuid: String
            var name: String
            var date_tagged: String
        }
        struct Body: Content {
            var tags: [Item]
        }
        let dates = Dictionary(links.map { ($0.tagID, $0.dateTagged) }, uniquingKeysWith: { first, _ in first })
        return try await Body(tags: tags.map { Item(uuid: $0.uuid.uuidString.lowercased(), name: $0.name, date_tagged: WS1Date.string(dates[$0.id ?? -1])) })
            .encodeResponse(for: req)
    }

    static func profiles(_ req: Request) async throws -> Response {
        try req.uem.require(.devices, .read)
        let device = try await find(req)
        let installed = try await UEMInstalledProfile.query(on: req.db).filter(\.$deviceID == (device.id ?? -1)).all()
        let profiles = try await UEMProfile.query(on: req.db).filter(\.$id ~~ installed.map(\.profileID)).sort(\.$name).all()
        return try UEMPaging.response(
            "DeviceProfiles", items: try await profiles.asyncMap { try await UEMProfileController.describe($0, on: req.db) },
            total: profiles.count, page: 0, size: max(profiles.count, 1), for: req)
    }

    static func enroll(_ req: Request) async throws -> Response {
        try req.uem.require(.devices, .edit)
        let body = try req.content.decode(WS1EnrollRequest.self)
        guard !body.Udid.isEmpty else { throw UEMError.invalid("Udid is required.") }
        guard ["Apple", "Android"].contains(body.Platform) else { throw UEMError.invalid("Platform must be Apple or Android, not \(body.Platform).") }
        let principal = try req.uem
        let group = try await UEMSystemController.groupInScope(body.LocationGroupId, of: principal, on: req.db)
        // The enrollment user: an existing account by name, or one created for this enrollment.
        let user: UEMUser
        if let existing = try await UEMUser.query(on: req.db).filter(\.$username == body.UserName).first() {
            guard existing.status == "Active" else { throw UEMError.invalid("User \(body.UserName) is inactive and cannot enroll devices.") }
            user = existing
        } else {
            user = try await UEMUserController.create(username: body.UserName, email: body.UserEmailAddress, firstName: nil, lastName: nil,
                                                      status: "Active", organizationGroupID: group, on: req.db)
        }
        let device = try await UEMDevice.query(on: req.db).filter(\.$udid == body.Udid).first() ?? UEMDevice()
        if device.id == nil { device.uuid = UUID() }
        device.udid = body.Udid
        device.serialNumber = body.SerialNumber
        device.macAddress = body.MacAddress
        device.imei = body.Imei
        device.friendlyName = body.FriendlyName ?? "\(body.UserName) \(body.Model ?? body.Platform) \(body.OperatingSystem ?? "")".trimmingCharacters(in: .whitespaces)
        device.model = body.Model
        device.platform = body.Platform
        device.operatingSystem = body.OperatingSystem
        device.ownership = SmartGroupCriteria.ownershipCode(body.Ownership ?? "C")
        device.organizationGroupID = group
        device.enrollmentUserID = user.id
        device.userName = user.username
        device.userEmail = body.UserEmailAddress ?? user.email
        device.enrollmentStatus = "Enrolled"
        device.lastSeen = Date()
        device.complianceStatus = "Compliant"
        device.compromised = false
        try await req.db.uemChange { tx in
            try await device.save(on: tx)
            let id = try device.requireID()
            try await UEMEvent(eventType: "MDMEnrollmentComplete", deviceID: id, detail: device.udid, eventTime: Date()).create(on: tx)
            try await EffectiveState.reconcile(devices: [id], on: tx)
        }
        return try await WS1Device(device, group: try await groupsByID(req)[device.organizationGroupID]).encodeResponse(status: .created, for: req)
    }

    static func unenroll(_ req: Request) async throws -> HTTPStatus {
        try req.uem.require(.devices, .edit)
        let device = try await find(req)
        let id = try device.requireID()
        try await req.db.uemChange { tx in try await recordUnenrollment(id, udid: device.udid, on: tx, at: Date()) }
        return .noContent
    }

    /// The device leaves the UEM (an unenrollment, or a wipe the device completed): its state,
    /// the BreakMDMConfirmed event, and its smart groups, profiles and compliance reconciled.
    static func recordUnenrollment(_ deviceID: Int, udid: String?, on tx: any Database, at now: Date) async throws {
        try await UEMDevice.query(on: tx).filter(\.$id == deviceID).set(\.$enrollmentStatus, to: "Unenrolled").update()
        try await UEMEvent(eventType: "BreakMDMConfirmed", deviceID: deviceID, detail: udid, eventTime: now).create(on: tx)
        try await EffectiveState.reconcile(devices: [deviceID], on: tx)
    }

    /// An enrolled device; with `wipePending`, also one a wipe is taking out (Workspace ONE still
    /// shows it, with its command queue, until the wipe completes).
    static func find(_ req: Request, wipePending: Bool = false) async throws -> UEMDevice {
        guard let raw = req.parameters.get("id") else { throw UEMError.notFound("Device") }
        let device: UEMDevice?
        if let id = Int(raw) {
            device = try await UEMDevice.find(id, on: req.db)
        } else if let uuid = UUID(uuidString: raw) {
            device = try await UEMDevice.query(on: req.db).filter(\.$uuid == uuid).first()
        } else {
            device = nil
        }
        let visible = ["Enrolled"] + (wipePending ? ["EnterpriseWipePending", "DeviceWipePending"] : [])
        guard let device, visible.contains(device.enrollmentStatus) else { throw UEMError.notFound("Device") }
        return device
    }

    static func groupsByID(_ req: Request) async throws -> [Int: UEMOrganizationGroup] {
        Dictionary(try await UEMOrganizationGroup.query(on: req.db).all().compactMap { group in group.id.map { ($0, group) } }, uniquingKeysWith: { first, _ in first })
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        result.reserveCapacity(count)
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
