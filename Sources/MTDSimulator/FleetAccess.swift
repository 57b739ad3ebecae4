import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// How the simulator reaches the MTD server and its UEM.
public struct FleetAccess: Sendable {
    public struct Admin: Sendable {
        public var email: String
        public var password: String

        public init(email: String, password: String) {
            self.email = email
            self.password = password
        }
    }

    public struct UEM: Sendable {
        /// e.g. `http://127.0.0.1:8080/API`.
        public var baseURL: String
        public var tenantCode: String
        public var username: String
        public var password: String

        public init(baseURL: String, tenantCode: String, username: String, password: String) {
            self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
            self.tenantCode = tenantCode
            self.username = username
            self.password = password
        }
    }

    public var server: URL
    /// Known up front (in-process demo), or read through the admin API.
    public var enrollmentCode: String?
    public var admin: Admin?
    /// Without a UEM, agents are configured directly (no enrollment, no Hub settings).
    public var uem: UEM?

    public init(server: URL, enrollmentCode: String? = nil, admin: Admin? = nil, uem: UEM? = nil) {
        self.server = server
        self.enrollmentCode = enrollmentCode
        self.admin = admin
        self.uem = uem
    }
}

/// Plain JSON calls for setup (admin API, UEM REST API), with errors that say which call failed.
struct SetupClient: Sendable {
    let http: HTTPClient

    func call(_ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], json: Any? = nil) async throws -> (status: Int, body: Any?) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: Array(try JSONSerialization.data(withJSONObject: json))))
        }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(60))
        } catch {
            throw FleetError.setup("\(method) \(url): cannot reach the server (\(error)); is it running?")
        }
        let data = Data(try await response.body.collect(upTo: 32 * 1024 * 1024).readableBytesView)
        let body = data.isEmpty ? nil : try? JSONSerialization.jsonObject(with: data)
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let text = String(decoding: data.prefix(300), as: UTF8.self)
            throw FleetError.setup("\(method) \(url) answered \(status): \(text)")
        }
        return (status, body)
    }

    func uem(_ method: HTTPMethod, _ path: String, _ access: FleetAccess.UEM, json: Any? = nil) async throws -> Any? {
        let basic = Data("\(access.username):\(access.password)".utf8).base64EncodedString()
        return try await call(method, access.baseURL + path, headers: [("aw-tenant-code", access.tenantCode), ("Authorization", "Basic \(basic)")], json: json).body
    }
}
