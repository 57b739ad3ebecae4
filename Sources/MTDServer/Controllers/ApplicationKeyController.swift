import FluentKit
import Foundation
import MobileRiskAPI
import MTDStore
import Vapor

/// `/api/v1/application-keys`: the keys SIEM and SOAR connectors use with the Mobile Risk API.
/// Owners create and revoke them; the key itself is in the creation answer only.
enum ApplicationKeyController {
    struct CreateRequest: Content {
        var name: String
        var scopes: [String]
    }

    struct Created: Content {
        var id: UUID
        var name: String
        var scopes: [String]
        var key: String
        var expiresAt: Date
    }

    struct Summary: Content {
        var id: UUID
        var name: String
        var scopes: [String]
        var createdAt: Date
        var createdBy: String
        var lastUsedAt: Date?
        var expiresAt: Date
        var revokedAt: Date?
        /// `active`, `expired` or `revoked`.
        var status: String

        init(_ key: ApplicationKeyModel, now: Date) throws {
            id = try key.requireID()
            name = key.name
            scopes = key.scopes.split(separator: " ").map(String.init)
            createdAt = key.createdAt
            createdBy = key.createdBy
            lastUsedAt = key.lastUsedAt
            expiresAt = key.expiresAt
            revokedAt = key.revokedAt
            status = key.revokedAt != nil ? "revoked" : (key.expiresAt <= now ? "expired" : "active")
        }
    }

    static func create(_ req: Request) async throws -> Response {
        let principal = try req.admin
        try principal.require(\.canManageEnterprise, "create application keys")
        let body = try req.content.decode(CreateRequest.self)
        let created = try await translated {
            try await req.application.mtd.mobileRisk.keys.create(
                enterpriseID: principal.enterpriseID, name: body.name, scopes: body.scopes, createdBy: principal.email, now: Date(), on: req.db)
        }
        let answer = Created(
            id: try created.key.requireID(), name: created.key.name, scopes: created.key.scopes.split(separator: " ").map(String.init),
            key: created.secret, expiresAt: created.key.expiresAt)
        let response = try await answer.encodeResponse(status: .created, for: req)
        response.headers.cacheControl = .init(noStore: true)
        return response
    }

    static func list(_ req: Request) async throws -> [Summary] {
        let principal = try req.admin
        let now = Date()
        return try await req.application.mtd.mobileRisk.keys.list(enterpriseID: principal.enterpriseID, on: req.db).map { try Summary($0, now: now) }
    }

    static func revoke(_ req: Request) async throws -> HTTPStatus {
        let principal = try req.admin
        try principal.require(\.canManageEnterprise, "revoke application keys")
        guard let id = req.parameters.get("id", as: UUID.self) else { throw APIError.notFound("application key") }
        guard try await req.application.mtd.mobileRisk.keys.revoke(id: id, enterpriseID: principal.enterpriseID, by: principal.email, now: Date(), on: req.db) else {
            throw APIError.notFound("application key")
        }
        return .noContent
    }

    /// The Mobile Risk API's validation errors in the admin API's shape.
    static func translated<T>(_ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch let error as MRAError where error.status == .badRequest {
            throw APIError.badRequest(error.message, field: error.parameter)
        }
    }
}
