import Fluent
import Foundation
import Vapor

/// OAuth 2.0 client credentials, as Workspace ONE SaaS offers them: clients with a role
/// (`POST /API/system/oauthclients`), tokens from `POST /connect/token`, then `Authorization: Bearer`.
enum UEMOAuthController {
    static let tokenLifetime: Double = 3600

    struct ClientRequest: Content {
        var Name: String
        var RoleId: Int
        var LocationGroupId: Int?
    }

    struct ClientResponse: Content {
        var Id: WS1Id
        var Name: String
        var ClientId: String
        /// Shown once; only its SHA-256 is kept.
        var ClientSecret: String
    }

    static func createClient(_ req: Request) async throws -> Response {
        let principal = try req.uem
        try principal.require(.admins, .edit)
        let body = try req.content.decode(ClientRequest.self)
        guard !body.Name.trimmingCharacters(in: .whitespaces).isEmpty else { throw UEMError.invalid("Name is required.") }
        guard try await UEMRole.find(body.RoleId, on: req.db) != nil else { throw UEMError.invalid("Role \(body.RoleId) does not exist.") }
        let client = UEMOAuthClient()
        client.name = body.Name
        client.clientID = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let secret = [UInt8].random(count: 32).map { String(format: "%02x", $0) }.joined()
        client.secretHash = OAuthTokens.digest(secret)
        client.organizationGroupID = try await UEMSystemController.groupInScope(body.LocationGroupId, of: principal, on: req.db)
        client.roleID = body.RoleId
        try await client.create(on: req.db)
        return try await ClientResponse(Id: WS1Id(Value: try client.requireID()), Name: client.name, ClientId: client.clientID, ClientSecret: secret)
            .encodeResponse(status: .created, for: req)
    }

    /// RFC 6749 §4.4: form-encoded `grant_type=client_credentials`, the client in the form or in Basic auth.
    static func token(_ req: Request) async throws -> Response {
        struct Form: Content {
            var grant_type: String?
            var client_id: String?
            var client_secret: String?
        }
        let form = (try? req.content.decode(Form.self)) ?? Form()
        guard form.grant_type == "client_credentials" else {
            return try oauthError(.badRequest, "unsupported_grant_type", "grant_type must be client_credentials")
        }
        let basic = req.headers.basicAuthorization
        guard let id = form.client_id ?? basic?.username, let secret = form.client_secret ?? basic?.password,
              let client = try await UEMOAuthClient.query(on: req.db).filter(\.$clientID == id).first(),
              OAuthTokens.digest(secret) == client.secretHash, let clientID = client.id
        else {
            return try oauthError(.unauthorized, "invalid_client", "unknown client or wrong secret")
        }
        let token = await req.application.uemOAuthTokens.issue(clientID: clientID, lifetime: tokenLifetime, now: Date())
        struct Body: Content {
            var access_token: String
            var token_type: String
            var expires_in: Int
        }
        let response = try await Body(access_token: token, token_type: "Bearer", expires_in: Int(tokenLifetime)).encodeResponse(for: req)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        // Workspace ONE's token endpoint spells it so; some clients compare the header as a string.
        response.headers.replaceOrAdd(name: .contentType, value: "application/json; charset=UTF-8")
        return response
    }

    static func oauthError(_ status: HTTPResponseStatus, _ error: String, _ description: String) throws -> Response {
        struct Body: Content {
            var error: String
            var error_description: String
        }
        let response = Response(status: status)
        try response.content.encode(Body(error: error, error_description: description))
        return response
    }
}

/// Issued bearer tokens (as SHA-256) and when they expire. Held in memory: a restart makes clients
/// ask for a new token, which they do on the 401 anyway.
actor OAuthTokens {
    private var tokens: [String: (clientID: Int, expires: Date)] = [:]

    static func digest(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    func issue(clientID: Int, lifetime: Double, now: Date) -> String {
        tokens = tokens.filter { $0.value.expires > now }
        let token = [UInt8].random(count: 32).map { String(format: "%02x", $0) }.joined()
        tokens[Self.digest(token)] = (clientID, now.addingTimeInterval(lifetime))
        return token
    }

    func client(for token: String, now: Date) -> Int? {
        guard let entry = tokens[Self.digest(token)], entry.expires > now else { return nil }
        return entry.clientID
    }
}

struct OAuthTokensKey: StorageKey {
    typealias Value = OAuthTokens
}

extension Application {
    var uemOAuthTokens: OAuthTokens {
        get async {
            if let tokens = storage[OAuthTokensKey.self] { return tokens }
            let tokens = OAuthTokens()
            storage[OAuthTokensKey.self] = tokens
            return tokens
        }
    }
}
