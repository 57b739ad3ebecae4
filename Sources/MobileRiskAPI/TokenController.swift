import Fluent
import Foundation
import Vapor

/// `POST /oauth2/token`: an application key (as the Bearer credential) for an access token.
struct TokenController: Sendable {
    let api: MobileRiskAPI

    struct Answer: Content {
        var access_token: String
        var token_type: String
        var expires_in: Int
        /// Epoch milliseconds, as Lookout sends.
        var expires_at: Int64
        var scope: String
    }

    @Sendable func issue(_ req: Request) async throws -> Response {
        guard let key = req.headers.bearerAuthorization?.token, !key.isEmpty else {
            throw MRAError.invalidClient("send the application key as Authorization: Bearer <key>")
        }
        // The key first: whoever is refused learns nothing about the rest of the request.
        let now = api.clock()
        let applicationKey = try await api.keys.key(forSecret: key, now: now, on: req.db)
        let form = Self.form(req)
        guard let grant = form["grant_type"], !grant.isEmpty else {
            throw MRAError.invalidRequest("grant_type is required; send grant_type=client_credentials", parameter: "grant_type")
        }
        guard grant == "client_credentials" else {
            throw MRAError(status: .badRequest, code: "unsupported_grant_type", message: "only grant_type=client_credentials is supported", parameter: "grant_type")
        }
        var requested: Set<MRAScope>?
        if let scopeText = form["scope"], !scopeText.trimmingCharacters(in: .whitespaces).isEmpty {
            var scopes = Set<MRAScope>()
            for word in scopeText.split(whereSeparator: { $0 == " " || $0 == "," }) {
                guard let scope = MRAScope(rawValue: String(word)) else {
                    throw MRAError(status: .badRequest, code: "invalid_scope", message: "unknown scope \"\(word.prefix(40))\"", parameter: "scope")
                }
                scopes.insert(scope)
            }
            requested = scopes
        }
        let issued = try await api.keys.issueToken(for: applicationKey, requested: requested, now: now, on: req.db)
        let answer = Answer(
            access_token: issued.token, token_type: "Bearer",
            expires_in: Int(max(issued.expiresAt.timeIntervalSince(now), 0).rounded(.down)),
            expires_at: Int64((issued.expiresAt.timeIntervalSince1970 * 1000).rounded(.down)),
            scope: MRAScope.text(issued.scopes))
        let response = try await answer.encodeResponse(for: req)
        response.headers.cacheControl = .init(noStore: true)
        response.headers.replaceOrAdd(name: "Pragma", value: "no-cache")
        return response
    }

    /// The form body; a JSON body is read too, and an empty or unreadable body is an empty form
    /// (then grant_type is missing, which says what to send).
    static func form(_ req: Request) -> [String: String] {
        guard let buffer = req.body.data, buffer.readableBytes > 0, buffer.readableBytes <= 16_384,
              let text = buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes)
        else { return [:] }
        if text.first == "{", let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] {
            return object.compactMapValues { $0 as? String }
        }
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = parts.first.map({ Self.decode(String($0)) }), !name.isEmpty else { continue }
            fields[name] = parts.count > 1 ? Self.decode(String(parts[1])) : ""
        }
        return fields
    }

    private static func decode(_ text: String) -> String {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? text
    }
}
