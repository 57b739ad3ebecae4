import Fluent
import Foundation
import MTDCore
import Vapor

/// `/API/system`: connectivity, organization groups, roles and admin accounts.
enum UEMSystemController {
    struct Info: Content {
        var ProductName: String
        var ProductVersion: String
        /// OpenMTD extensions a connector may use; `MTDThreatLevel` is `POST /API/mdm/devices/mtdthreatlevel`.
        var Capabilities: [String]
    }

    static func info(_ req: Request) async throws -> Info {
        _ = try req.uem
        return Info(ProductName: "OpenMTD built-in UEM", ProductVersion: "1.0", Capabilities: ["MTDThreatLevel"])
    }

    /// `GET /API/help`: 200, as Workspace ONE's help page answers; clients use it to check that the
    /// REST API is reachable before they authenticate.
    static func help(_ req: Request) async throws -> Response {
        var headers = HTTPHeaders()
        headers.contentType = .html
        let page = "<!doctype html><html lang=\"en\"><head><title>OpenMTD built-in UEM REST API</title></head><body><h1>OpenMTD built-in UEM REST API</h1>"
            + "<p>Workspace ONE UEM compatible. The OpenAPI document is at <a href=\"/API/openapi.json\">/API/openapi.json</a>.</p></body></html>"
        return Response(status: .ok, headers: headers, body: .init(string: page))
    }

    /// Every path the built-in UEM does not serve: a 404 that names it, in Workspace ONE's error body.
    static func unsupported(_ req: Request) async throws -> Response {
        throw UEMError(status: .notFound, errorCode: 404, message: "\(req.method.rawValue) \(req.url.path.prefix(300)) is not a resource of this API; see /API/openapi.json.")
    }

    static func groups(_ req: Request) async throws -> Response {
        let principal = try req.uem
        try principal.require(.groups, .read)
        // Only the caller's group and those below it: an admin of a branch does not see its parents.
        let tree = try await OrganizationTree.load(on: req.db)
        let visible = try await UEMOrganizationGroup.query(on: req.db).all().compactMap(\.id)
            .filter { tree.contains($0, within: principal.organizationGroupID) }
        var query = UEMOrganizationGroup.query(on: req.db).filter(\.$id ~~ visible)
        if let name = req.query[String.self, at: "name"], !name.isEmpty { query = query.filter(\.$name == name) }
        if let groupID = req.query[String.self, at: "groupid"], !groupID.isEmpty { query = query.filter(\.$groupID == groupID) }
        let window = try req.uemPage
        let total = try await query.copy().count()
        let groups = try await query.sort(\.$id).range(window.range).all()
        let parents = try await groupsByID(on: req.db)
        let items = groups.map { GroupItem($0, parents: parents) }
        return try UEMPaging.response("LocationGroups", items: items, total: total, page: window.page, size: window.size, for: req)
    }

    struct GroupRequest: Content {
        var Name: String
        var GroupId: String
        var LocationGroupType: String?
    }

    /// A group as Workspace ONE shows it; its parent is `{"Id":{"Value":n},"Uuid":"…"}`.
    struct GroupItem: Content {
        struct Parent: Content {
            var Id: WS1Id
            var Uuid: String
        }

        var Id: WS1Id
        var Uuid: String
        var Name: String
        var GroupId: String
        var LocationGroupType: String
        var ParentLocationGroup: Parent?

        init(_ group: UEMOrganizationGroup, parents: [Int: UEMOrganizationGroup]) {
            Id = WS1Id(Value: group.id ?? 0)
            Uuid = group.uuid.uuidString.lowercased()
            Name = group.name
            GroupId = group.groupID
            LocationGroupType = group.type
            ParentLocationGroup = group.parentID.map { parent in
                Parent(Id: WS1Id(Value: parent), Uuid: parents[parent]?.uuid.uuidString.lowercased() ?? "")
            }
        }
    }

    static func groupsByID(on database: any Database) async throws -> [Int: UEMOrganizationGroup] {
        Dictionary(try await UEMOrganizationGroup.query(on: database).all().compactMap { group in group.id.map { ($0, group) } },
                   uniquingKeysWith: { first, _ in first })
    }

    /// `POST /API/system/groups/{parentId}`: a child organization group.
    static func createGroup(_ req: Request) async throws -> Response {
        let principal = try req.uem
        try principal.require(.groups, .edit)
        let parent = try await groupInScope(try pathGroupID(req), of: principal, on: req.db)
        let body = try req.content.decode(GroupRequest.self)
        let name = body.Name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, !body.GroupId.isEmpty else { throw UEMError.invalid("Name and GroupId are required.") }
        if try await UEMOrganizationGroup.query(on: req.db).filter(\.$groupID == body.GroupId).first() != nil {
            throw UEMError(status: .badRequest, errorCode: 1002, message: "An organization group with GroupId \(body.GroupId) already exists.")
        }
        let group = UEMOrganizationGroup(name: name, groupID: body.GroupId, parentID: parent, type: body.LocationGroupType ?? "Container")
        try await group.create(on: req.db)
        return try await WS1Id(Value: try group.requireID()).encodeResponse(status: .created, for: req)
    }

    static func group(_ req: Request) async throws -> GroupItem {
        let principal = try req.uem
        try principal.require(.groups, .read)
        let id = try await groupInScope(try pathGroupID(req), of: principal, on: req.db)
        guard let group = try await UEMOrganizationGroup.find(id, on: req.db) else { throw UEMError.notFound("Organization group", code: 5068) }
        return GroupItem(group, parents: try await groupsByID(on: req.db))
    }

    /// `GET /API/system/groups/{id}/children`: the group's whole subtree, the group itself first (a
    /// plain array, as Workspace ONE answers).
    static func children(_ req: Request) async throws -> [GroupItem] {
        let principal = try req.uem
        try principal.require(.groups, .read)
        let id = try await groupInScope(try pathGroupID(req), of: principal, on: req.db)
        let tree = try await OrganizationTree.load(on: req.db)
        let parents = try await groupsByID(on: req.db)
        return try await UEMOrganizationGroup.query(on: req.db).sort(\.$id).all()
            .filter { tree.contains($0.id ?? -1, within: id) }
            .sorted { ($0.id == id ? 0 : 1, $0.id ?? 0) < ($1.id == id ? 0 : 1, $1.id ?? 0) }
            .map { GroupItem($0, parents: parents) }
    }

    /// The group id in the URL; text that is not an id names no group.
    static func pathGroupID(_ req: Request) throws -> Int {
        guard let text = req.parameters.get("id"), let id = Int(text) else { throw UEMError.notFound("Organization group", code: 5068) }
        return id
    }

    /// The given group (the caller's own when nil), refused unless it lies within the caller's group.
    static func groupInScope(_ id: Int?, of principal: UEMPrincipal, on database: any Database) async throws -> Int {
        guard let id else { return principal.organizationGroupID }
        guard try await UEMOrganizationGroup.find(id, on: database) != nil else { throw UEMError.notFound("Organization group", code: 5068) }
        guard try await OrganizationTree.load(on: database).contains(id, within: principal.organizationGroupID) else {
            throw UEMError(status: .forbidden, errorCode: 1001, message: "Organization group \(id) is outside this account's organization group.")
        }
        return id
    }

    struct RoleRequest: Content {
        var Name: String
        /// Category → "Read" | "Edit"; categories: Admins, Apps, Devices, Groups, Users, BulkManagement, Tags, Profiles, Compliance.
        var Permissions: [String: String]
    }

    struct RoleResponse: Content {
        var Id: WS1Id
        var Uuid: String
        var Name: String
        var Permissions: [String: String]
    }

    static func createRole(_ req: Request) async throws -> Response {
        try req.uem.require(.admins, .edit)
        let body = try req.content.decode(RoleRequest.self)
        var levels: [String: UEMPermissionLevel] = [:]
        for (category, level) in body.Permissions {
            guard UEMCategory(rawValue: category) != nil else {
                throw UEMError.invalid("Unknown permission category \(category); use \(UEMCategory.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            guard let parsed = UEMPermissionLevel(rawValue: level) else { throw UEMError.invalid("Permission level for \(category) must be Read or Edit, not \(level).") }
            levels[category] = parsed
        }
        if try await UEMRole.query(on: req.db).filter(\.$name == body.Name).first() != nil {
            throw UEMError(status: .badRequest, errorCode: 1002, message: "A role named \(body.Name) already exists.")
        }
        let role = UEMRole(name: body.Name, permissions: levels)
        try await role.create(on: req.db)
        return try await RoleResponse(Id: WS1Id(Value: try role.requireID()), Uuid: role.uuid.uuidString.lowercased(), Name: role.name,
                                      Permissions: levels.mapValues(\.rawValue)).encodeResponse(status: .created, for: req)
    }

    struct AdminRequest: Content {
        var UserName: String
        var Password: String
        var Email: String?
        var LocationGroupId: Int?
        var RoleId: Int
    }

    static func addAdmin(_ req: Request) async throws -> Response {
        let principal = try req.uem
        try principal.require(.admins, .edit)
        let body = try req.content.decode(AdminRequest.self)
        guard body.Password.count >= 12 else { throw UEMError.invalid("Passwords need at least 12 characters.") }
        guard try await UEMRole.find(body.RoleId, on: req.db) != nil else { throw UEMError.invalid("Role \(body.RoleId) does not exist.") }
        if try await UEMAdmin.query(on: req.db).filter(\.$username == body.UserName).first() != nil {
            throw UEMError(status: .badRequest, errorCode: 1002, message: "An admin named \(body.UserName) already exists.")
        }
        let admin = UEMAdmin(
            username: body.UserName, passwordHash: try Bcrypt.hash(body.Password, cost: 10), email: body.Email,
            organizationGroupID: try await groupInScope(body.LocationGroupId, of: principal, on: req.db), roleID: body.RoleId)
        try await admin.create(on: req.db)
        return try await WS1Id(Value: try admin.requireID()).encodeResponse(status: .created, for: req)
    }

    static func searchAdmins(_ req: Request) async throws -> Response {
        try req.uem.require(.admins, .read)
        var query = UEMAdmin.query(on: req.db)
        if let username = req.query[String.self, at: "username"], !username.isEmpty { query = query.filter(\.$username == username) }
        let window = try req.uemPage
        let total = try await query.copy().count()
        let admins = try await query.sort(\.$id).range(window.range).all()
        struct Item: Content {
            var Id: WS1Id
            var Uuid: String
            var UserName: String
            var Email: String?
            var LocationGroupId: String
        }
        return try UEMPaging.response(
            "Admins", items: admins.map { Item(Id: WS1Id(Value: $0.id ?? 0), Uuid: $0.uuid.uuidString.lowercased(), UserName: $0.username, Email: $0.email, LocationGroupId: "\($0.organizationGroupID)") },
            total: total, page: window.page, size: window.size, for: req)
    }
}

extension UEMSystemController {
    /// The OpenAPI 3.1 document of the built-in UEM (`Resources/openapi.json`); a route test keeps it
    /// complete.
    static func openAPI(_ req: Request) async throws -> Response {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json") else {
            throw UEMError.notFound("OpenAPI document")
        }
        let data = try Data(contentsOf: url)
        var headers = HTTPHeaders()
        headers.contentType = .json
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }
}
