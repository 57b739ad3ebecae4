import MTDServices
import FluentKit
import Foundation
import MTDCore
import MTDStore
import Vapor

/// Admin roles: owners manage everything, analysts work threats and policy, read-only users look.
/// This is the one permission table: the admin API and the console check the same properties, in
/// the domain functions they share.
enum AdminRole: String, Codable, Sendable, CaseIterable {
    case owner
    case analyst
    case readOnly = "read-only"

    var canActOnThreats: Bool { self != .readOnly }
    /// Starting a UEM sync pushes threat changes an analyst just made; it changes no settings.
    var canRunUEMSync: Bool { self != .readOnly }
    var canEditPolicy: Bool { self != .readOnly }
    /// Automations send webhooks on the enterprise's behalf; the actions they may take are the
    /// non-destructive ones an analyst could trigger by hand.
    var canManageAutomations: Bool { self != .readOnly }
    var canManageEnterprise: Bool { self == .owner }
}

/// Who is calling the admin API.
struct AdminPrincipal: Sendable {
    var adminID: UUID
    var enterpriseID: UUID
    var email: String
    var role: AdminRole
    var scopes: Set<String>
    var tokenID: UUID

    var actor: EventParty { EventParty(type: "ADMIN", guid: email) }

    func require(_ permission: (AdminRole) -> Bool, _ what: String) throws {
        guard scopes.contains("write") else {
            throw APIError.forbidden("this token is read-only; \(what) needs a token with the write scope")
        }
        guard permission(role) else {
            throw APIError.forbidden("the \(role.rawValue) role cannot \(what)")
        }
    }
}

struct AdminPrincipalKey: StorageKey {
    typealias Value = AdminPrincipal
}

/// Resolves `Authorization: Bearer <token>` to an admin; only the token's SHA-256 is stored.
struct AdminAuthMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let token = request.headers.bearerAuthorization?.token, !token.isEmpty else { throw APIError.unauthorized() }
        guard let stored = try await APITokenModel.query(on: request.db).filter(\.$tokenHash == Secrets.hash(token)).with(\.$admin).first() else {
            throw APIError.unauthorized("unknown or revoked token; log in again or create a new API token")
        }
        if let expiresAt = stored.expiresAt, expiresAt < Date() {
            throw APIError.unauthorized("token expired; log in again")
        }
        request.storage[AdminPrincipalKey.self] = AdminPrincipal(
            adminID: try stored.admin.requireID(), enterpriseID: stored.admin.$enterprise.id, email: stored.admin.email,
            role: AdminRole(rawValue: stored.admin.role) ?? .readOnly,
            scopes: Set(stored.scopes.split(separator: " ").map(String.init)), tokenID: try stored.requireID())
        if request.method != .GET, request.method != .HEAD, !(request.storage[AdminPrincipalKey.self]?.scopes.contains("write") ?? false) {
            throw APIError.forbidden("this token is read-only; changes need a token with the write scope")
        }
        return try await next.respond(to: request)
    }
}

extension Request {
    var admin: AdminPrincipal {
        get throws {
            guard let principal = storage[AdminPrincipalKey.self] else { throw APIError.unauthorized() }
            return principal
        }
    }
}

/// Who is calling the agent API: a device, by its credential.
struct AgentDevice: Sendable {
    var deviceID: UUID
    var enterpriseID: UUID
    /// The device as read when the credential was checked; the steady-state check-in starts from it.
    var snapshot: HotQueries.DeviceSnapshot
}

struct AgentDeviceKey: StorageKey {
    typealias Value = AgentDevice
}

struct DeviceAuthMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let token = request.headers.bearerAuthorization?.token, !token.isEmpty else {
            throw APIError.unauthorized("missing device credential; send Authorization: Bearer <credential from activation>")
        }
        guard let device = try await HotQueries.snapshot(withCredentialHash: Secrets.hash(token), on: request.db) else {
            throw APIError(status: .unauthorized, code: "credential_revoked", message: "unknown or revoked device credential; activate again")
        }
        request.storage[AgentDeviceKey.self] = AgentDevice(deviceID: device.id, enterpriseID: device.enterpriseID, snapshot: device)
        return try await next.respond(to: request)
    }
}

extension Request {
    var agentDevice: AgentDevice {
        get throws {
            guard let device = storage[AgentDeviceKey.self] else { throw APIError.unauthorized() }
            return device
        }
    }
}
