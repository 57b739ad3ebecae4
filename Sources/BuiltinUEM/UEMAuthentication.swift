import Fluent
import Foundation
import MTDCore
import Vapor

/// A REST caller: an admin account (Basic auth) presenting the tenant's API key (`aw-tenant-code`).
struct UEMPrincipal: Sendable {
    var adminID: Int
    var username: String
    var organizationGroupID: Int
    var permissions: [String: UEMPermissionLevel]

    func require(_ category: UEMCategory, _ level: UEMPermissionLevel) throws {
        guard let granted = permissions[category.rawValue], granted >= level else {
            throw UEMError.permission(category, level)
        }
    }

    /// For calls whose category depends on what the body or the stored item says: refuses an account
    /// that holds none of them before anything is read, so it learns nothing about the item.
    func requireAny(_ categories: [UEMCategory], _ level: UEMPermissionLevel) throws {
        guard let first = categories.first else { return }
        guard categories.contains(where: { permissions[$0.rawValue].map { $0 >= level } ?? false }) else {
            throw UEMError.permission(first, level)
        }
    }
}

struct UEMPrincipalKey: StorageKey {
    typealias Value = UEMPrincipal
}

struct UEMAuthMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let code = request.headers.first(name: "aw-tenant-code") ?? ""
        let principal: UEMPrincipal
        if let bearer = request.headers.bearerAuthorization {
            principal = try await oauthPrincipal(bearer.token, tenantCode: code, on: request)
        } else {
            principal = try await basicPrincipal(tenantCode: code, on: request)
        }
        request.storage[UEMPrincipalKey.self] = principal
        let response = try await next.respond(to: request)
        response.headers.replaceOrAdd(name: "x-api-version", value: "v1")
        response.headers.replaceOrAdd(name: "api-supported-versions", value: "1")
        return response
    }

    /// An admin account with Basic auth, presenting its organization group's API key.
    func basicPrincipal(tenantCode code: String, on request: Request) async throws -> UEMPrincipal {
        // `system/info` answers Basic auth without a tenant code, as Workspace ONE's does: clients
        // call it to check the account before they know the key.
        let infoOnly = code.isEmpty && Self.isSystemInfo(request.url.path)
        let key = try await UEMAPIKey.query(on: request.db).filter(\.$code == code).first()
        if key == nil, !infoOnly { throw UEMError.tenantCode(code.isEmpty ? "(none)" : code) }
        guard let basic = request.headers.basicAuthorization else { throw UEMError.credentials("(none)") }
        guard let admin = try await UEMAdmin.query(on: request.db).filter(\.$username == basic.username).first(),
              try await VerifiedCredentials.shared.verify(basic.password, against: admin.passwordHash),
              let adminID = admin.id
        else { throw UEMError.credentials(basic.username) }
        guard let key else {
            return UEMPrincipal(adminID: adminID, username: admin.username, organizationGroupID: admin.organizationGroupID, permissions: [:])
        }
        // The API key of an organization group serves the admins of that group and of the groups below it.
        if admin.organizationGroupID != key.organizationGroupID {
            guard try await OrganizationTree.load(on: request.db).contains(admin.organizationGroupID, within: key.organizationGroupID) else {
                throw UEMError.tenantCode(code)
            }
        }
        let role = try await UEMRole.find(admin.roleID, on: request.db)
        return UEMPrincipal(adminID: adminID, username: admin.username, organizationGroupID: admin.organizationGroupID, permissions: role?.levels ?? [:])
    }

    static func isSystemInfo(_ path: String) -> Bool {
        let lowered = path.lowercased()
        return lowered == "/api/system/info" || lowered == "/api/v1/system/info"
    }

        /// An OAuth client's bearer token. The tenant code is optional with OAuth (clients differ on
    /// whether they send it); when sent it must belong to the client's organization group tree.
    func oauthPrincipal(_ token: String, tenantCode code: String, on request: Request) async throws -> UEMPrincipal {
        guard let clientID = await request.application.uemOAuthTokens.client(for: token, now: Date()),
              let client = try await UEMOAuthClient.find(clientID, on: request.db)
        else { throw UEMError.credentials("(expired or unknown OAuth token)") }
        if !code.isEmpty {
            guard let key = try await UEMAPIKey.query(on: request.db).filter(\.$code == code).first(),
                  try await OrganizationTree.load(on: request.db).contains(client.organizationGroupID, within: key.organizationGroupID)
            else { throw UEMError.tenantCode(code) }
        }
        let role = try await UEMRole.find(client.roleID, on: request.db)
        return UEMPrincipal(adminID: -clientID, username: "oauth:" + client.name, organizationGroupID: client.organizationGroupID, permissions: role?.levels ?? [:])
    }
}

/// bcrypt makes every API call cost tens of milliseconds; a UEM connector calls thousands of times.
/// A password already verified against a stored hash is remembered (as a SHA-256, never in clear)
/// until that hash changes.
actor VerifiedCredentials {
    static let shared = VerifiedCredentials()
    private var verified: [String: String] = [:]

    func verify(_ password: String, against hash: String) throws -> Bool {
        let key = SHA256.hash(data: Data((hash + "\u{0}" + password).utf8)).map { String(format: "%02x", $0) }.joined()
        if verified[key] == hash { return true }
        guard try Bcrypt.verify(password, created: hash) else { return false }
        if verified.count > 10_000 { verified.removeAll() }
        verified[key] = hash
        return true
    }
}

extension Request {
    var uem: UEMPrincipal {
        get throws {
            guard let principal = storage[UEMPrincipalKey.self] else { throw UEMError.credentials("(none)") }
            return principal
        }
    }

    /// 0-based `page` and `pagesize` (default 500), as Workspace ONE pages. A page size above
    /// 10,000 is capped (the answer's `PageSize` says so); text that is not a number, a negative
    /// value or a page beyond the deepest offset is refused with a 400 naming the parameter.
    var uemPage: PageWindow {
        get throws {
            let sizeText = query[String.self, at: "pagesize"] ?? query[String.self, at: "pageSize"] ?? query[String.self, at: "PageSize"]
            let pageText = query[String.self, at: "page"] ?? query[String.self, at: "Page"]
            return try PageWindow(pageText: pageText, sizeText: sizeText, sizeParameter: "pagesize", defaultSize: 500, maximumSize: 10_000, clampSize: true)
        }
    }
}

/// Search results: `{"<Name>":[…], "Page", "PageSize", "Total"}`, or 204 with no body when empty.
enum UEMPaging {
    static func response<Item: Encodable>(_ key: String, items: [Item], total: Int, page: Int, size: Int, for request: Request) throws -> Response {
        guard total > 0 else { return Response(status: .noContent) }
        let data = try JSONEncoder().encode(PagedBody(key: key, items: items, page: page, size: size, total: total))
        var headers = HTTPHeaders()
        headers.contentType = .json
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }
}

private struct PagedKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

private struct PagedBody<Item: Encodable>: Encodable {
    var key: String
    var items: [Item]
    var page: Int
    var size: Int
    var total: Int

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: PagedKey.self)
        try container.encode(items, forKey: PagedKey(key))
        try container.encode(page, forKey: PagedKey("Page"))
        try container.encode(size, forKey: PagedKey("PageSize"))
        try container.encode(total, forKey: PagedKey("Total"))
    }
}
