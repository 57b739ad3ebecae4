import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The current bearer token, shared by every copy of a client; renewed a minute before it expires.
actor OAuthTokenCache {
    private var token: String?
    private var expires = Date.distantPast

    func current(now: Date) -> String? {
        guard let token, now < expires.addingTimeInterval(-60) else { return nil }
        return token
    }

    /// `lifetime` is the token endpoint's `expires_in`: anything not finite and positive counts as
    /// "renew at the next call", and no token is kept longer than a day.
    func store(_ token: String, lifetime: Double, now: Date) {
        self.token = token
        expires = now.addingTimeInterval(lifetime.isFinite ? min(max(lifetime, 0), 86_400) : 0)
    }

    func clear() {
        token = nil
    }
}

extension WorkspaceOneClient {
    /// Client-credentials grant (RFC 6749 §4.4), form-encoded; errors carry the server's `error_description`.
    func bearerToken(_ oauth: OAuth) async throws(UEMClientError) -> String {
        if let token = await tokens.current(now: Date()) { return token }
        struct TokenResponse: Decodable {
            var access_token: String
            var expires_in: Double?
        }
        struct TokenError: Decodable {
            var error: String
            var error_description: String?
        }
        var request = HTTPClientRequest(url: oauth.tokenURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        let form = [("grant_type", "client_credentials"), ("client_id", oauth.clientID), ("client_secret", oauth.clientSecret)]
            .map { "\($0)=\(Self.formEncoded($1))" }.joined(separator: "&")
        request.body = .bytes(ByteBuffer(string: form))
        let status: HTTPResponseStatus
        let data: Data
        do {
            try await egress?.check(oauth.tokenURL)
        } catch {
            throw .refused("OAuth token URL: \(error.description)")
        }
        do {
            let response = try await http.execute(request, timeout: .seconds(settings.timeoutSeconds))
            status = response.status
            data = Data(try await response.body.collect(upTo: 1024 * 1024).readableBytesView)
        } catch {
            throw .unavailable("OAuth token endpoint \(oauth.tokenURL): \(error)")
        }
        guard (200..<300).contains(status.code) else {
            if let failure = try? JSONDecoder().decode(TokenError.self, from: data) {
                let text = failure.error + (failure.error_description.map { ": \($0)" } ?? "")
                throw status.code == 400 || status.code == 401 ? .credentials("OAuth client \(oauth.clientID): \(text)") : .unavailable("OAuth token endpoint: \(text)")
            }
            throw status.code >= 500 ? .unavailable("OAuth token endpoint answered \(status.code)") : .credentials("OAuth token endpoint answered \(status.code)")
        }
        let token: TokenResponse = try decode(data)
        await tokens.store(token.access_token, lifetime: token.expires_in ?? 3600, now: Date())
        return token.access_token
    }

    static func formEncoded(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
