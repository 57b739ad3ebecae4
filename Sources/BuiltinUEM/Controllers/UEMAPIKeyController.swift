import Fluent
import Foundation
import Vapor

/// `/API/system/apikeys` (OpenMTD's REST form of the console's REST API key page): the
/// `aw-tenant-code` of an organization group. A key serves its group and the groups below it.
enum UEMAPIKeyController {
    struct Request: Content {
        var Name: String
        var LocationGroupId: Int?
    }

    struct Item: Content {
        var Id: WS1Id
        var Name: String
        var LocationGroupId: Int
        var TenantCode: String
    }

    static func create(_ req: Vapor.Request) async throws -> Response {
        let principal = try req.uem
        try principal.require(.admins, .edit)
        let body = try req.content.decode(Request.self)
        guard !body.Name.trimmingCharacters(in: .whitespaces).isEmpty else { throw UEMError.invalid("Name is required.") }
        let group = try await UEMSystemController.groupInScope(body.LocationGroupId, of: principal, on: req.db)
        let key = UEMAPIKey(code: UUID().uuidString.replacingOccurrences(of: "-", with: ""), name: body.Name, organizationGroupID: group)
        try await key.create(on: req.db)
        return try await Item(Id: WS1Id(Value: try key.requireID()), Name: key.name, LocationGroupId: group, TenantCode: key.code)
            .encodeResponse(status: .created, for: req)
    }

    static func list(_ req: Vapor.Request) async throws -> [Item] {
        let principal = try req.uem
        try principal.require(.admins, .read)
        let tree = try await OrganizationTree.load(on: req.db)
        return try await UEMAPIKey.query(on: req.db).sort(\.$id).all()
            .filter { tree.contains($0.organizationGroupID, within: principal.organizationGroupID) }
            .map { Item(Id: WS1Id(Value: $0.id ?? 0), Name: $0.name, LocationGroupId: $0.organizationGroupID, TenantCode: $0.code) }
    }
}
