import BuiltinUEM
import FluentKit
import Foundation
import MTDStore
import NIOHTTP1
import Testing
import Vapor

/// Every route of the server against every kind of credential, checked over HTTP against one table.
/// A route without an entry in the table fails the test, so a new route cannot ship without a
/// decision about who may call it.
///
/// "Allowed" means the request got past authentication and authorization: any answer but 401 and
/// 403 (the ids are random, so most allowed calls end in 400 or 404), and never a 5xx.
@Suite(.serialized) struct AuthorizationTableTests {
    /// Who may call a route.
    enum Access: Sendable {
        /// Anyone, without credentials.
        case open
        /// A device credential (agent API).
        case device
        /// Any admin token, read scope enough.
        case read
        /// Any admin role, with the write scope.
        case write
        /// Owners and analysts (threats, policy, device deactivation, UEM sync), with the write scope.
        case act
        /// Owners only, with the write scope.
        case owner
        /// The console: a browser session, never a bearer token.
        case console
        /// The built-in UEM: aw-tenant-code plus its own accounts; reads need Read, changes Edit.
        case uem
        /// A console form posted without the console's CSRF token (as every call here is): refused
        /// before credentials are even looked at.
        case consoleForm
        /// `POST /oauth2/token`: an application key as the bearer credential.
        case applicationKey
        /// The Mobile Risk API: an access token from `/oauth2/token` whose key has this scope.
        case mra(String)
        /// Workspace ONE event notifications: Basic auth with the enterprise's notification
        /// credential, which no caller of this table holds.
        case uemNotification
    }

    static let table: [String: Access] = [
        "GET /": .open,
        "GET /healthz": .open,
        "GET /metrics": .open,
        "POST /agent/v1/activate": .open,
        "POST /agent/v1/checkin": .device,
        "POST /agent/v1/deactivate": .device,
        "GET /dns-query": .open,
        "POST /dns-query": .open,
        "GET /dns-query/:token": .open,
        "POST /dns-query/:token": .open,
        "GET /api/v1/openapi.json": .open,
        "POST /api/v1/auth/login": .open,
        "POST /api/v1/integrations/uem/notifications": .uemNotification,
        "POST /api/v1/integrations/uem/notification-credential": .owner,
        "POST /api/v1/auth/logout": .write,
        "GET /api/v1/tokens": .read,
        "POST /api/v1/tokens": .write,
        "DELETE /api/v1/tokens/:id": .write,
        "GET /api/v1/admins": .read,
        "POST /api/v1/admins": .owner,
        "GET /api/v1/devices": .read,
        "GET /api/v1/devices.csv": .read,
        "GET /api/v1/devices/:id": .read,
        "POST /api/v1/devices/:id/deactivate": .act,
        "GET /api/v1/devices/:id/dns-queries": .act,
        "GET /api/v1/dns/decision": .read,
        "GET /api/v1/threats": .read,
        "POST /api/v1/threats/:id/ignore": .act,
        "POST /api/v1/threats/:id/unignore": .act,
        "POST /api/v1/threats/:id/resolve": .act,
        "GET /api/v1/policy": .read,
        "PUT /api/v1/policy": .act,
        "GET /api/v1/policy/versions": .read,
        "GET /api/v1/enrollment-codes": .read,
        "POST /api/v1/enrollment-codes": .owner,
        "POST /api/v1/enrollment-codes/:id/revoke": .owner,
        "GET /api/v1/application-keys": .read,
        "POST /api/v1/application-keys": .owner,
        "DELETE /api/v1/application-keys/:id": .owner,
        "GET /api/v1/consumers": .read,
        "GET /api/v1/automations": .read,
        "POST /api/v1/automations": .act,
        "GET /api/v1/automations/executions": .read,
        "GET /api/v1/automations/templates": .read,
        "GET /api/v1/automations/:id": .read,
        "PUT /api/v1/automations/:id": .act,
        "DELETE /api/v1/automations/:id": .act,
        "POST /api/v1/automations/:id/dry-run": .write,
        "GET /api/v1/automations/:id/executions": .read,
        "GET /api/v1/settings/smtp": .read,
        "PUT /api/v1/settings/smtp": .owner,
        "DELETE /api/v1/settings/smtp": .owner,
        "POST /api/v1/settings/smtp/test": .owner,
        "GET /api/v1/integrations/uem": .read,
        "PUT /api/v1/integrations/uem": .owner,
        "POST /api/v1/integrations/uem/test": .owner,
        "POST /api/v1/integrations/uem/sync": .act,
        "GET /api/v1/events": .read,
        "GET /api/v1/audit": .read,
        "GET /console/login": .open,
        "POST /console/login": .consoleForm,
        "GET /console": .console,
        "POST /console/logout": .console,
        "GET /console/devices": .console,
        "GET /console/devices.csv": .console,
        "GET /console/devices/:id": .console,
        "GET /console/threats": .console,
        "POST /console/threats/:id/:action": .console,
        "GET /console/audit": .console,
        "GET /console/apps": .console,
        "GET /console/apps/:app": .console,
        "GET /console/integrations": .console,
        "POST /console/integrations/uem": .console,
        "POST /console/integrations/sync": .console,
        "POST /console/integrations/enrollment-code": .console,
        "GET /console/application-keys": .console,
        "POST /console/application-keys": .console,
        "GET /console/automations": .console,
        "POST /console/automations": .console,
        "GET /console/automations/dead": .console,
        "GET /console/automations/mail-relay": .console,
        "POST /console/automations/mail-relay": .console,
        "POST /console/automations/mail-relay/test": .console,
        "POST /console/automations/mail-relay/delete": .console,
        "GET /console/automations/:id": .console,
        "POST /console/automations/:id/toggle": .console,
        "POST /console/automations/:id/edit": .console,
        "POST /console/automations/:id/delete": .console,
        "POST /console/automations/:id/dry-run": .console,
        "POST /console/application-keys/:id/revoke": .console,
        "GET /console/policy": .console,
        "POST /console/policy/severities": .console,
        "POST /console/policy/document": .console,
        "POST /connect/token": .open,
        "GET /API/openapi.json": .open,
        "POST /oauth2/token": .applicationKey,
        "GET /mra/openapi.json": .open,
        "GET /mra/stream/v2/events": .mra("events"),
        "GET /mra/api/v2/events": .mra("events"),
        "GET /mra/api/v2/devices": .mra("devices"),
        "GET /mra/api/v2/device": .mra("devices"),
        "GET /mra/api/v2/threats": .mra("threats"),
        "GET /mra/api/v2/threat": .mra("threats"),
        "GET /mra/api/v2/pcp-threats": .mra("threats"),
        "GET /mra/api/v2/os-vulns/android": .mra("os-vulns"),
        "GET /mra/api/v2/os-vulns/ios": .mra("os-vulns"),
        "GET /mra/api/v2/os-vulns/cve": .mra("os-vulns"),
        "GET /mra/api/v2/os-vulns/devices": .mra("os-vulns"),
        "GET /mra/api/v2/os-vulns/os-versions": .mra("os-vulns"),
    ]

    /// The kinds of caller.
    enum Credential: String, CaseIterable, Sendable {
        case nobody
        case owner
        case ownerReadScope
        case analyst
        case readOnly
        case device
        case otherEnterpriseOwner
        case otherEnterpriseDevice
        case uemAdmin
        case uemReader
        /// An admin of a child organization group with that group's API key.
        case uemChildAdmin
        /// The root group's admin presenting a child group's API key: the key does not serve it.
        case uemRootAdminChildKey
        /// An application key itself (it only buys access tokens).
        case applicationKey
        /// A Mobile Risk API access token with every scope.
        case mraToken
        /// A Mobile Risk API access token whose key has the events scope only.
        case mraEventsToken
    }

    struct Caller {
        var headers: [String: String]
    }

    /// The expected outcome: nil when allowed, else the status.
    static func expected(_ access: Access, _ credential: Credential, method: NIOHTTP1.HTTPMethod) -> Int? {
        let adminWriters: Set<Credential> = [.owner, .analyst, .otherEnterpriseOwner]
        let admins: Set<Credential> = adminWriters.union([.ownerReadScope, .readOnly])
        switch access {
        case .open:
            return nil
        case .device:
            return [.device, .otherEnterpriseDevice].contains(credential) ? nil : 401
        case .read:
            return admins.contains(credential) ? nil : 401
        case .write:
            return adminWriters.contains(credential) ? nil : admins.contains(credential) ? 403 : 401
        case .act:
            return adminWriters.contains(credential) ? nil : admins.contains(credential) ? 403 : 401
        case .owner:
            return [.owner, .otherEnterpriseOwner].contains(credential) ? nil : admins.contains(credential) ? 403 : 401
        case .console:
            // Bearer tokens and UEM accounts are not console sessions: the console sends them to its login.
            return 303
        case .uem:
            switch credential {
            case .uemAdmin, .uemChildAdmin: return nil
            case .uemReader: return method == .GET ? nil : 403
            case .uemRootAdminChildKey: return 403
            // No credentials and no tenant code: Workspace ONE answers 403 (errorCode 1013).
            case .nobody: return 403
            // A bearer token is taken for an OAuth token, which needs no tenant code: unknown, so 401.
            default: return 401
            }
        case .consoleForm:
            return 403
        case .applicationKey:
            return credential == .applicationKey ? nil : 401
        case .uemNotification:
            return 401
        case .mra(let scope):
            switch credential {
            case .mraToken: return nil
            case .mraEventsToken: return scope == "events" ? nil : 403
            default: return 401
            }
        }
    }

    @Test func everyRouteAnswersEveryCredentialAsTheTableSays() async throws {
        try await withServer(.sqlite, adjust: { $0.uemAdminPassword = "uem-admin-password-1" }) { server in
            let callers = try await Self.callers(server)
            var checked = 0
            var missing: [String] = []
            for route in server.app.routes.all {
                let pattern = "/" + route.path.map(\.description).joined(separator: "/")
                var key = "\(route.method.rawValue) \(pattern)"
                let components = route.path.map(\.description)
                // /API/v1/… is the same built-in UEM as /API/….
                let isUEM = components.first == "API" && components.dropFirst().first != "openapi.json"
                if components.first == "API", components.dropFirst().first == "v1" { continue }
                // The built-in UEM's catch-all answers any path it does not serve with a 404, to anyone.
                // So does its help page, a connectivity check.
                let isCatchAll = components.first == "API" && (components.last == "**" || components.dropFirst() == ["help"])
                guard let access = isCatchAll ? Access.open : isUEM ? Access.uem : Self.table[key] else {
                    missing.append(key)
                    continue
                }
                key = pattern.split(separator: "/").map { $0.hasPrefix(":") ? Self.sample(for: String($0)) : String($0) }.joined(separator: "/")
                // An allowed stream would never end: an unknown type makes it answer 400 once past
                // authentication, which is all this test needs to see.
                let path = "/" + key + (pattern == "/mra/stream/v2/events" ? "?types=NOT_A_TYPE" : "")
                for credential in Credential.allCases {
                    // Logging out revokes the token it is called with: use a fresh one of the same kind.
                    let caller = pattern == "/api/v1/auth/logout" ? try await Self.caller(credential, server: server, base: callers) : callers[credential]
                    var headers = caller?.headers ?? [:]
                    var body: Data?
                    if route.method != .GET, route.method != .DELETE {
                        headers["Content-Type"] = "application/json"
                        body = Data("{}".utf8)
                    }
                    let reply = try await server.sendRaw(route.method, path, headers: headers, body: body)
                    var expected = Self.expected(access, credential, method: route.method)
                    // system/info needs no tenant code with Basic auth (Workspace ONE's account check),
                    // so a caller with nothing at all is asked for credentials: 401, not 1013's 403.
                    if pattern == "/API/system/info", credential == .nobody { expected = 401 }
                    #expect(reply.status < 500, "\(route.method.rawValue) \(path) as \(credential.rawValue): \(reply.status) \(reply.text.prefix(200))")
                    if let expected {
                        #expect(reply.status == expected, "\(route.method.rawValue) \(path) as \(credential.rawValue): expected \(expected), got \(reply.status) \(reply.text.prefix(200))")
                        if expected == 303 {
                            #expect(reply.headers.first(name: "Location")?.hasPrefix("/console/login") == true, "\(path): \(reply.headers)")
                        }
                    } else {
                        #expect(reply.status != 401 && reply.status != 403, "\(route.method.rawValue) \(path) as \(credential.rawValue) should be allowed, got \(reply.status) \(reply.text.prefix(200))")
                    }
                    checked += 1
                }
            }
            #expect(missing.isEmpty, "routes without an entry in the authorization table: \(missing.sorted())")
            #expect(checked >= 90 * Credential.allCases.count)
            print("authorization table: \(checked) route × credential pairs checked")
        }
    }

    /// Another enterprise's admin sees none of this enterprise's devices or threats, and cannot act on them.
    @Test func anotherEnterpriseSeesNothing() async throws {
        try await withServer(.sqlite, adjust: { $0.uemAdminPassword = "uem-admin-password-1" }) { server in
            let callers = try await Self.callers(server)
            let device = try await server.activate(udid: "authz-1")
            _ = try await server.checkIn(device, Documents.android())
            let other = try #require(callers[.otherEnterpriseOwner]?.headers)
            let owner = try #require(callers[.owner]?.headers)
            var reply = try await server.sendRaw(.GET, "/api/v1/devices/\(device.deviceID)", headers: owner, body: nil)
            #expect(reply.status == 200)
            reply = try await server.sendRaw(.GET, "/api/v1/devices/\(device.deviceID)", headers: other, body: nil)
            #expect(reply.status == 404, "\(reply.text)")
            reply = try await server.sendRaw(.POST, "/api/v1/devices/\(device.deviceID)/deactivate", headers: other, body: nil)
            #expect(reply.status == 404, "\(reply.text)")
            reply = try await server.sendRaw(.GET, "/api/v1/devices", headers: other, body: nil)
            #expect(!reply.text.contains(device.deviceID), "\(reply.text)")
            reply = try await server.sendRaw(.GET, "/api/v1/events?after=0&limit=1000", headers: other, body: nil)
            #expect(!reply.text.contains(device.deviceID), "\(reply.text)")
            // Its device checks in to its own enterprise; this enterprise's device list does not change.
            let otherDevice = try #require(callers[.otherEnterpriseDevice]?.headers)
            var headers = otherDevice
            headers["Content-Type"] = "application/json"
            reply = try await server.sendRaw(.POST, "/agent/v1/checkin", headers: headers, body: try JSONSerialization.data(withJSONObject: Documents.android()))
            #expect(reply.status == 200, "\(reply.text)")
            reply = try await server.sendRaw(.GET, "/api/v1/devices", headers: owner, body: nil)
            #expect(!reply.text.contains("authz-other"), "\(reply.text)")
            // In the built-in UEM, a child group's admin sees its group, not its parent.
            let child = try #require(callers[.uemChildAdmin]?.headers)
            reply = try await server.sendRaw(.GET, "/API/system/groups/1", headers: child, body: nil)
            #expect(reply.status == 403, "\(reply.text)")
            reply = try await server.sendRaw(.GET, "/API/system/groups/search", headers: child, body: nil)
            #expect(reply.status == 200 && !reply.text.contains("\"GroupId\":\"openmtd\""), "\(reply.text)")
        }
    }

    static func sample(for parameter: String) -> String {
        switch parameter {
        case ":action": "ignore"
        case ":app": "com.example.unknown"
        default: UUID().uuidString.lowercased()
        }
    }

    static func callers(_ server: TestServer) async throws -> [Credential: Caller] {
        var result: [Credential: Caller] = [:]
        for credential in Credential.allCases {
            result[credential] = try await caller(credential, server: server, base: result)
        }
        return result
    }

    /// A fresh credential of the given kind.
    static func caller(_ credential: Credential, server: TestServer, base: [Credential: Caller]) async throws -> Caller {
        func bearer(_ token: String) -> Caller { Caller(headers: ["Authorization": "Bearer \(token)"]) }
        func token(_ session: String, scopes: [String]) async throws -> String {
            let reply = try await server.send(.POST, "/api/v1/tokens", token: session, json: ["name": "authz", "scopes": scopes])
            #expect(reply.status == 201, "\(reply.text)")
            return try #require(reply.json["token"] as? String)
        }
        func admin(_ email: String, role: String) async throws -> String {
            let owner = try await server.login()
            let existing = try await server.send(.GET, "/api/v1/admins", token: owner)
            if !existing.text.contains(email) {
                let reply = try await server.send(.POST, "/api/v1/admins", token: owner, json: ["email": email, "password": "authz-password-123", "role": role])
                #expect(reply.status == 201, "\(reply.text)")
            }
            return try await server.login(email, password: "authz-password-123")
        }
        switch credential {
        case .nobody:
            return Caller(headers: [:])
        case .owner:
            return bearer(try await token(try await server.login(), scopes: ["read", "write"]))
        case .ownerReadScope:
            return bearer(try await token(try await server.login(), scopes: ["read"]))
        case .analyst:
            return bearer(try await token(try await admin("analyst@example.com", role: "analyst"), scopes: ["read", "write"]))
        case .readOnly:
            return bearer(try await token(try await admin("viewer@example.com", role: "read-only"), scopes: ["read"]))
        case .device:
            return bearer(try await server.activate(udid: "authz-\(UUID().uuidString.prefix(8))").credential)
        case .otherEnterpriseOwner, .otherEnterpriseDevice:
            let enterprise = try await otherEnterprise(server)
            if credential == .otherEnterpriseOwner {
                return bearer(try await token(try await server.login("other-owner@example.com", password: "other-password-123"), scopes: ["read", "write"]))
            }
            return bearer(try await server.activate(udid: "authz-other-\(UUID().uuidString.prefix(8))", code: enterprise.code).credential)
        case .uemChildAdmin, .uemRootAdminChildKey:
            let child = try await childGroup(server)
            if credential == .uemRootAdminChildKey {
                return Caller(headers: ["aw-tenant-code": child.tenantCode, "Authorization": "Basic " + Data("uemadmin:uem-admin-password-1".utf8).base64EncodedString()])
            }
            return Caller(headers: ["aw-tenant-code": child.tenantCode, "Authorization": "Basic " + Data("\(child.admin):child-admin-password-1".utf8).base64EncodedString()])
        case .applicationKey, .mraToken, .mraEventsToken:
            let owner = try await server.login()
            let scopes = credential == .mraEventsToken ? ["events"] : ["events", "devices", "threats", "os-vulns"]
            let reply = try await server.send(.POST, "/api/v1/application-keys", token: owner, json: ["name": "authz", "scopes": scopes])
            #expect(reply.status == 201, "\(reply.text)")
            let key = try #require(reply.json["key"] as? String)
            if credential == .applicationKey { return bearer(key) }
            let issued = try await server.sendRaw(
                .POST, "/oauth2/token", headers: ["Authorization": "Bearer \(key)", "Content-Type": "application/x-www-form-urlencoded"],
                body: Data("grant_type=client_credentials".utf8))
            #expect(issued.status == 200, "\(issued.text)")
            return bearer(try #require(issued.json["access_token"] as? String))
        case .uemAdmin, .uemReader:
            let tenant = try await TenantCode.first(on: server.app.db)
            if credential == .uemAdmin {
                return Caller(headers: ["aw-tenant-code": tenant, "Authorization": "Basic " + Data("uemadmin:uem-admin-password-1".utf8).base64EncodedString()])
            }
            let basic = ["aw-tenant-code": tenant, "Authorization": "Basic " + Data("uemadmin:uem-admin-password-1".utf8).base64EncodedString(),
                         "Content-Type": "application/json"]
            let categories = ["Admins", "Apps", "Devices", "Groups", "Users", "BulkManagement", "Tags", "Profiles", "Compliance"]
            let permissions: [String: String] = Dictionary(uniqueKeysWithValues: categories.map { ($0, "Read") })
            let roleBody: [String: Any] = ["Name": "Reader " + String(UUID().uuidString.prefix(6)), "Permissions": permissions]
            var reply = try await server.sendRaw(.POST, "/API/system/roles", headers: basic, body: try JSONSerialization.data(withJSONObject: roleBody))
            #expect(reply.status == 201, "\(reply.text)")
            let role = try #require((reply.json["Id"] as? [String: Any])?["Value"] as? Int)
            let name = "reader" + String(UUID().uuidString.prefix(6)).lowercased()
            let adminBody: [String: Any] = ["UserName": name, "Password": "reader-password-123", "RoleId": role]
            reply = try await server.sendRaw(.POST, "/API/system/admins/addadmin", headers: basic, body: try JSONSerialization.data(withJSONObject: adminBody))
            #expect(reply.status == 201, "\(reply.text)")
            return Caller(headers: ["aw-tenant-code": tenant, "Authorization": "Basic " + Data("\(name):reader-password-123".utf8).base64EncodedString()])
        }
    }

    /// A child organization group of the built-in UEM's root, its API key, and a full-role admin in it.
    static func childGroup(_ server: TestServer) async throws -> (id: Int, tenantCode: String, admin: String) {
        let tenant = try await TenantCode.first(on: server.app.db)
        let root = ["aw-tenant-code": tenant, "Authorization": "Basic " + Data("uemadmin:uem-admin-password-1".utf8).base64EncodedString(),
                    "Content-Type": "application/json"]
        let suffix = String(UUID().uuidString.prefix(6)).lowercased()
        let groupBody: [String: Any] = ["Name": "Branch \(suffix)", "GroupId": "branch-\(suffix)"]
        var reply = try await server.sendRaw(.POST, "/API/system/groups/1", headers: root, body: try JSONSerialization.data(withJSONObject: groupBody))
        #expect(reply.status == 201, "\(reply.text)")
        let group = try #require(reply.json["Value"] as? Int)
        let keyBody: [String: Any] = ["Name": "Branch key", "LocationGroupId": group]
        reply = try await server.sendRaw(.POST, "/API/system/apikeys", headers: root, body: try JSONSerialization.data(withJSONObject: keyBody))
        #expect(reply.status == 201, "\(reply.text)")
        let code = try #require(reply.json["TenantCode"] as? String)
        let adminBody: [String: Any] = ["UserName": "branch\(suffix)", "Password": "child-admin-password-1", "RoleId": 1, "LocationGroupId": group]
        reply = try await server.sendRaw(.POST, "/API/system/admins/addadmin", headers: root, body: try JSONSerialization.data(withJSONObject: adminBody))
        #expect(reply.status == 201, "\(reply.text)")
        return (group, code, "branch\(suffix)")
    }

    /// A second enterprise with an owner and an enrollment code, made the way a hosting operator
    /// would: straight in the database (there is no API for it yet).
    static func otherEnterprise(_ server: TestServer) async throws -> (id: UUID, code: String) {
        let db = server.app.db
        if let existing = try await EnterpriseModel.query(on: db).filter(\.$name == "Other Enterprise").first(), let id = existing.id,
           let code = try await EnrollmentCodeModel.query(on: db).filter(\.$enterprise.$id == id).first() {
            return (id, code.code)
        }
        let enterprise = EnterpriseModel(name: "Other Enterprise")
        try await enterprise.create(on: db)
        let id = try enterprise.requireID()
        try await AdminModel(enterpriseID: id, email: "other-owner@example.com", passwordHash: try Bcrypt.hash("other-password-123", cost: 4), role: "owner").create(on: db)
        let code = "OTHER-\(UUID().uuidString.prefix(8))"
        try await EnrollmentCodeModel(enterpriseID: id, code: code, expiresAt: nil).create(on: db)
        return (id, code)
    }
}
