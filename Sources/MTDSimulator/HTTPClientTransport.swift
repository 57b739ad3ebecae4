import AsyncHTTPClient
import Foundation
import MTDAgent
import NIOCore
import NIOHTTP1

/// The agent transport on AsyncHTTPClient: one connection pool for a whole simulated fleet.
public struct HTTPClientTransport: AgentTransport {
    let client: HTTPClient
    let timeout: TimeAmount

    public init(client: HTTPClient, timeoutSeconds: Int64 = 30) {
        self.client = client
        self.timeout = .seconds(timeoutSeconds)
    }

    public func send(_ request: AgentHTTPRequest) async throws -> AgentHTTPResponse {
        var outgoing = HTTPClientRequest(url: request.url.absoluteString)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if let body = request.body { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(outgoing, timeout: timeout)
        let body = try await response.body.collect(upTo: 8 * 1024 * 1024)
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name] = header.value }
        return AgentHTTPResponse(status: Int(response.status.code), headers: headers, body: Data(body.readableBytesView))
    }
}
