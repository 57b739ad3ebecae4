import AsyncHTTPClient
import MTDCore
import NIOCore
import NIOHTTP1
import NIOSSL

/// A DNS-over-HTTPS upstream (RFC 8484): each query is a POST of `application/dns-message` with id
/// 0 (§4.1, so that HTTP caches see equal queries as equal). AsyncHTTPClient keeps the connections
/// and speaks HTTP/2 when the upstream offers it (ALPN), so queries share one connection.
final class HTTPSUpstream: UpstreamConnection {
    let upstream: DNSUpstream
    private let client: HTTPClient
    private let url: String

    /// The largest answer taken: a DNS message is at most 65,535 bytes.
    static let maxAnswerBytes = 65_535

    init(_ upstream: DNSUpstream, group: any EventLoopGroup, trustRoots: NIOSSLTrustRoots) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = trustRoots
        do {
            // AsyncHTTPClient builds its context at the first connection; a bad CA file is found here instead.
            _ = try NIOSSLContext(configuration: tls)
        } catch {
            throw DNSConfigurationError("upstream \(upstream): the TLS settings cannot be used: \(error)")
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow)
        configuration.httpVersion = .automatic
        configuration.decompression = .disabled
        client = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: configuration)
        self.upstream = upstream
        url = upstream.description
    }

    func exchange(_ query: DNSMessage, timeout: TimeAmount) async throws -> DNSMessage {
        guard let question = query.questions.first else { throw UpstreamFailure.unusable(upstream, "no question to ask") }
        var sent = query
        sent.id = 0
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/dns-message")
        request.headers.add(name: "Accept", value: "application/dns-message")
        request.body = .bytes(ByteBuffer(bytes: sent.encoded()))
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await client.execute(request, timeout: timeout)
            body = try await response.body.collect(upTo: Self.maxAnswerBytes)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .connectTimeout || error == .readTimeout {
            throw UpstreamFailure.timeout(upstream)
        } catch {
            throw UpstreamFailure.unusable(upstream, "\(error)")
        }
        guard response.status == .ok else {
            throw UpstreamFailure.unusable(upstream, "answered HTTP \(response.status.code)")
        }
        let type = response.headers.first(name: "Content-Type")?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard type == "application/dns-message" else {
            throw UpstreamFailure.unusable(upstream, "answered \(type ?? "no Content-Type"), not application/dns-message")
        }
        let answer: DNSMessage
        do {
            answer = try DNSMessage(decoding: Array(body.readableBytesView))
        } catch {
            throw UpstreamFailure.unusable(upstream, "the answer is not a DNS message: \(error)")
        }
        guard UpstreamConnections.answers(answer, question) else { throw UpstreamFailure.unusable(upstream, "the answer is for another question") }
        return answer
    }

    func close() async {
        try? await client.shutdown()
    }
}
