import MTDServices
import FluentKit
import Foundation
import MTDCore
import MTDStore
import Vapor

/// Login, logout, API tokens and admin accounts.
enum AuthController {
    static let sessionHours = 12.0

    static func login(_ req: Request) async throws -> TokenResponse {
        let body = try req.content.decode(LoginRequest.self)
        let limiter = req.application.mtd.loginLimiter
        let client = req.clientAddress
        if let wait = try await limiter.wait(client, on: req.db) {
            throw APIError(status: .tooManyRequests, code: "rate_limited", message: "too many failed logins from this address; retry in \(wait) s", retryAfterSeconds: wait)
        }
        let email = body.email.lowercased().trimmingCharacters(in: .whitespaces)
        guard let admin = try await AdminModel.query(on: req.db).filter(\.$email == email).first(),
              try Bcrypt.verify(body.password, created: admin.passwordHash)
        else {
            try await limiter.take(client, on: req.db)
            throw APIError.unauthorized("wrong email or password")
        }
        let token = Secrets.token(prefix: "mtds_")
        let model = APITokenModel()
        model.$admin.id = try admin.requireID()
        model.tokenHash = Secrets.hash(token)
        model.name = "session"
        model.scopes = "read write"
        model.kind = "session"
        model.expiresAt = Date().addingTimeInterval(sessionHours * 3600)
        try await req.application.mtd.writes.run { try await model.create(on: req.db) }
        return TokenResponse(id: try model.requireID().uuidString.lowercased(), token: token, name: model.name, scopes: ["read", "write"], expiresAt: model.expiresAt, role: admin.role)
    }

    static func logout(_ req: Request) async throws -> HTTPStatus {
        let principal = try req.admin
        try await req.application.mtd.writes.run { try await APITokenModel.find(principal.tokenID, on: req.db)?.delete(on: req.db) }
        return .noContent
    }

    static func createToken(_ req: Request) async throws -> Response {
        let principal = try req.admin
        let body = try req.content.decode(CreateTokenRequest.self)
        let scopes = body.scopes ?? ["read"]
        for (index, scope) in scopes.enumerated() where scope != "read" && scope != "write" {
            throw APIError.badRequest("unknown scope \"\(scope)\"; use read or write", field: "$.scopes[\(index)]")
        }
        guard !body.name.isEmpty else { throw APIError.badRequest("name must not be empty", field: "$.name") }
        let token = Secrets.token(prefix: "mtda_")
        let model = APITokenModel()
        model.$admin.id = principal.adminID
        model.tokenHash = Secrets.hash(token)
        model.name = body.name
        model.scopes = Set(scopes + ["read"]).sorted().joined(separator: " ")
        model.kind = "api"
        // Bounded so that the expiry is a date every database stores (and no arithmetic traps).
        let days = try body.expiresInDays.map { try BoundedNumber.check($0, parameter: "$.expiresInDays", in: 1...3650, default: 1) }
        model.expiresAt = days.map { Date().addingTimeInterval(Double($0) * 86_400) }
        try await req.application.mtd.writes.run {
            try await req.db.transaction { tx in
                try await model.create(on: tx)
                try await EventLog.append([
                    .init(type: .audit, change: .created, actor: principal.actor, target: .init(type: "ADMIN", guid: principal.email),
                          payload: AuditPayload(type: "API_TOKEN", changes: [.init(name: "name", to: body.name), .init(name: "scopes", to: model.scopes)]))
                ], enterpriseID: principal.enterpriseID, on: tx, now: Date())
            }
        }
        let response = TokenResponse(
            id: try model.requireID().uuidString.lowercased(), token: token, name: model.name,
            scopes: model.scopes.split(separator: " ").map(String.init), expiresAt: model.expiresAt, role: principal.role.rawValue)
        return try await response.encodeResponse(status: .created, for: req)
    }

    static func listTokens(_ req: Request) async throws -> [TokenSummary] {
        let principal = try req.admin
        return try await APITokenModel.query(on: req.db).filter(\.$admin.$id == principal.adminID).filter(\.$kind == "api").all().map {
            TokenSummary(id: $0.id?.uuidString.lowercased() ?? "", name: $0.name, scopes: $0.scopes.split(separator: " ").map(String.init),
                         kind: $0.kind, createdAt: $0.createdAt, expiresAt: $0.expiresAt)
        }
    }

    static func deleteToken(_ req: Request) async throws -> HTTPStatus {
        let principal = try req.admin
        guard let id = req.parameters.get("id", as: UUID.self),
              let token = try await APITokenModel.query(on: req.db).filter(\.$id == id).filter(\.$admin.$id == principal.adminID).first()
        else { throw APIError.notFound("token") }
        try await req.application.mtd.writes.run { try await token.delete(on: req.db) }
        return .noContent
    }

    static func listAdmins(_ req: Request) async throws -> [AdminSummary] {
        let principal = try req.admin
        return try await AdminModel.query(on: req.db).filter(\.$enterprise.$id == principal.enterpriseID).sort(\.$email).all().map {
            AdminSummary(id: $0.id?.uuidString.lowercased() ?? "", email: $0.email, role: $0.role)
        }
    }

    static func createAdmin(_ req: Request) async throws -> Response {
        let principal = try req.admin
        try principal.require(\.canManageEnterprise, "manage admins")
        let body = try req.content.decode(CreateAdminRequest.self)
        guard let role = AdminRole(rawValue: body.role) else {
            throw APIError.badRequest("unknown role \"\(body.role)\"; use owner, analyst or read-only", field: "$.role")
        }
        let email = body.email.lowercased().trimmingCharacters(in: .whitespaces)
        guard email.contains("@") else { throw APIError.badRequest("not an email address", field: "$.email") }
        guard body.password.count >= 12 else { throw APIError.badRequest("passwords need at least 12 characters", field: "$.password") }
        if try await AdminModel.query(on: req.db).filter(\.$email == email).first() != nil {
            throw APIError.conflict("an admin with this email exists")
        }
        let model = AdminModel(enterpriseID: principal.enterpriseID, email: email, passwordHash: try Bcrypt.hash(body.password, cost: 10), role: role.rawValue)
        try await req.application.mtd.writes.run {
            try await req.db.transaction { tx in
                try await model.create(on: tx)
                try await EventLog.append([
                    .init(type: .audit, change: .created, actor: principal.actor, target: .init(type: "ADMIN", guid: email),
                          payload: AuditPayload(type: "ADMIN", changes: [.init(name: "role", to: role.rawValue)]))
                ], enterpriseID: principal.enterpriseID, on: tx, now: Date())
            }
        }
        return try await AdminSummary(id: try model.requireID().uuidString.lowercased(), email: email, role: role.rawValue).encodeResponse(status: .created, for: req)
    }
}
