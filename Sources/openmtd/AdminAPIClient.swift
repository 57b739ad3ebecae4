import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The admin API as a CLI command calls it: a bearer credential from `OPENMTD_API_TOKEN`, or a
/// session logged in with `OPENMTD_ADMIN_PASSWORD` (and logged out again), never a secret on the
/// command line where `ps` shows it. Errors become exit codes with what to do next.
final class AdminAPIClient: Sendable {
    struct Credential: Sendable {
        var token: String
        /// A session this client opened, to close when done.
        var isSession: Bool
    }

    let base: URL
    private let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(timeout: .init(connect: .seconds(5), read: .seconds(30))))

    init(base: URL) {
        self.base = base
    }

    func close() {
        try? http.syncShutdown()
    }

    func credential(adminEmail: String, environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> Credential {
        if let token = environment["OPENMTD_API_TOKEN"], !token.isEmpty { return Credential(token: token, isSession: false) }
        guard let password = environment["OPENMTD_ADMIN_PASSWORD"], !password.isEmpty else {
            throw Terminal.badInput("the server needs credentials: set OPENMTD_API_TOKEN to an admin API token (console: Settings, or POST /api/v1/tokens), "
                + "or OPENMTD_ADMIN_PASSWORD with --admin-email")
        }
        let body = try JSONSerialization.data(withJSONObject: ["email": adminEmail, "password": password])
        let reply = try await send(.POST, "api/v1/auth/login", query: [], body: body, token: nil)
        guard let object = try? JSONSerialization.jsonObject(with: reply) as? [String: Any], let token = object["token"] as? String else {
            throw Terminal.failure("the login answer from \(base.absoluteString) has no token; is it an OpenMTD server?")
        }
        return Credential(token: token, isSession: true)
    }

    func get(_ path: String, query: [URLQueryItem], credential: Credential) async throws -> Data {
        try await send(.GET, path, query: query, body: nil, token: credential.token)
    }

    /// Ends a session this client opened; a failure only leaves it to expire.
    func logout(_ credential: Credential) async {
        guard credential.isSession else { return }
        _ = try? await send(.POST, "api/v1/auth/logout", query: [], body: nil, token: credential.token)
    }

    private func send(_ method: HTTPMethod, _ path: String, query: [URLQueryItem], body: Data?, token: String?) async throws -> Data {
        guard var components = URLComponents(url: base.appendingPathComponent(path), resolvingAgainstBaseURL: false) else {
            throw Terminal.badInput("--server \(base.absoluteString) is not a usable address")
        }
        if !query.isEmpty { components.queryItems = query }
        guard let url = components.url?.absoluteString else { throw Terminal.badInput("--server \(base.absoluteString) is not a usable address") }
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        let data: Data
        do {
            response = try await http.execute(request, timeout: .seconds(30))
            data = Data(buffer: try await response.body.collect(upTo: 4 << 20))
        } catch {
            throw Terminal.failure("cannot reach \(base.absoluteString) (\(error)); is `openmtd serve` running there?")
        }
        guard (200..<300).contains(Int(response.status.code)) else {
            throw Terminal.failure("\(method.rawValue) /\(path) answered \(response.status.code): \(Self.message(data))"
                + (response.status.code == 401 ? "; check OPENMTD_API_TOKEN or the admin password" : ""))
        }
        return data
    }

    /// The admin API's error message (`{"error":{"message":…,"field":…}}`), or the body's start.
    static func message(_ data: Data) -> String {
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let error = object["error"] as? [String: Any],
           let message = error["message"] as? String {
            return message + ((error["field"] as? String).map { " (\($0))" } ?? "")
        }
        return String(decoding: data.prefix(300), as: UTF8.self)
    }
}
