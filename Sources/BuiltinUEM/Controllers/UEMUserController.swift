import Fluent
import Foundation
import MTDCore
import Vapor

/// `/API/system/users`: enrollment users.
enum UEMUserController {
    struct AddRequest: Content {
        var UserName: String
        var Email: String?
        var FirstName: String?
        var LastName: String?
        var LocationGroupId: Int?
        var Status: String?
    }

    struct Item: Content {
        var Id: WS1Id
        var Uuid: String
        var UserName: String
        var Email: String?
        var FirstName: String?
        var LastName: String?
        var Status: String
        var LocationGroupId: String
        var EnrolledDevicesCount: String

        init(_ user: UEMUser, devices: Int) {
            Id = WS1Id(Value: user.id ?? 0)
            Uuid = user.uuid.uuidString.lowercased()
            UserName = user.username
            Email = user.email
            FirstName = user.firstName
            LastName = user.lastName
            Status = user.status
            LocationGroupId = "\(user.organizationGroupID)"
            EnrolledDevicesCount = "\(devices)"
        }
    }

    static func add(_ req: Request) async throws -> Response {
        let principal = try req.uem
        try principal.require(.users, .edit)
        let body = try req.content.decode(AddRequest.self)
        let group = try await UEMSystemController.groupInScope(body.LocationGroupId, of: principal, on: req.db)
        let user = try await create(username: body.UserName, email: body.Email, firstName: body.FirstName, lastName: body.LastName,
                                    status: body.Status ?? "Active", organizationGroupID: group, on: req.db)
        return try await WS1Id(Value: try user.requireID()).encodeResponse(status: .created, for: req)
    }

    static func create(username: String, email: String?, firstName: String?, lastName: String?, status: String, organizationGroupID: Int,
                       on database: any Database) async throws -> UEMUser {
        let name = username.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw UEMError.invalid("UserName is required.") }
        guard ["Active", "Inactive"].contains(status) else { throw UEMError.invalid("Status must be Active or Inactive, not \(status).") }
        if let email, !email.isEmpty, !email.contains("@") { throw UEMError.invalid("Email \(email) is not an e-mail address.") }
        if try await UEMUser.query(on: database).filter(\.$username == name).first() != nil {
            throw UEMError(status: .badRequest, errorCode: 1002, message: "A user named \(name) already exists.")
        }
        let user = UEMUser()
        user.uuid = UUID()
        user.username = name
        user.email = email
        user.firstName = firstName
        user.lastName = lastName
        user.status = status
        user.organizationGroupID = organizationGroupID
        try await user.create(on: database)
        return user
    }

    static func search(_ req: Request) async throws -> Response {
        let principal = try req.uem
        try principal.require(.users, .read)
        let tree = try await OrganizationTree.load(on: req.db)
        var query = UEMUser.query(on: req.db)
        if let username = req.query[String.self, at: "username"], !username.isEmpty { query = query.filter(\.$username == username) }
        if let email = req.query[String.self, at: "email"], !email.isEmpty { query = query.filter(\.$email == email) }
        if let status = req.query[String.self, at: "status"], !status.isEmpty { query = query.filter(\.$status == status) }
        let root = req.query[Int.self, at: "locationgroupId"] ?? req.query[Int.self, at: "organizationgroupid"] ?? principal.organizationGroupID
        let all = try await query.sort(\.$id).all().filter { tree.contains($0.organizationGroupID, within: root) }
        let window = try req.uemPage
        let slice = Array(all.dropFirst(window.offset).prefix(window.size))
        let counts = try await deviceCounts(slice.compactMap(\.id), on: req.db)
        return try UEMPaging.response("Users", items: slice.map { Item($0, devices: counts[$0.id ?? -1] ?? 0) }, total: all.count, page: window.page, size: window.size, for: req)
    }

    static func get(_ req: Request) async throws -> Item {
        try req.uem.require(.users, .read)
        let user = try await find(req)
        return Item(user, devices: try await deviceCounts([try user.requireID()], on: req.db).values.first ?? 0)
    }

    static func delete(_ req: Request) async throws -> HTTPStatus {
        try req.uem.require(.users, .edit)
        let user = try await find(req)
        let enrolled = try await deviceCounts([try user.requireID()], on: req.db).values.first ?? 0
        guard enrolled == 0 else {
            throw UEMError.invalid("User \(user.username) has \(enrolled) enrolled device(s); unenroll them first.")
        }
        try await user.delete(on: req.db)
        return .noContent
    }

    static func deviceCounts(_ userIDs: [Int], on database: any Database) async throws -> [Int: Int] {
        var counts: [Int: Int] = [:]
        for device in try await UEMDevice.query(on: database).filter(\.$enrollmentUserID ~~ userIDs).filter(\.$enrollmentStatus == "Enrolled").all() {
            if let user = device.enrollmentUserID { counts[user, default: 0] += 1 }
        }
        return counts
    }

    /// A user by numeric id or by UUID (Workspace ONE's v2 form of `system/users/{uuid}`).
    static func find(_ req: Request) async throws -> UEMUser {
        let raw = req.parameters.get("id") ?? ""
        var user: UEMUser?
        if let id = Int(raw) {
            user = try await UEMUser.find(id, on: req.db)
        } else if let uuid = UUID(uuidString: raw) {
            user = try await UEMUser.query(on: req.db).filter(\.$uuid == uuid).first()
        }
        guard let user else { throw UEMError.notFound("User", code: 5067) }
        return user
    }
}
