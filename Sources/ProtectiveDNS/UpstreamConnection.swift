import MTDCore
import NIOCore
import NIOSSL

/// One upstream the resolver forwards to, whatever its transport: UDP (`UpstreamSocket`),
/// DNS-over-TLS (`TLSUpstream`) or DNS-over-HTTPS (`HTTPSUpstream`). `exchange` asks one
/// question and returns the upstream's answer (id aside), or throws an `UpstreamFailure`.
protocol UpstreamConnection: Sendable {
    var upstream: DNSUpstream { get }
    func exchange(_ query: DNSMessage, timeout: TimeAmount) async throws -> DNSMessage
    func close() async
}

enum UpstreamConnections {
    /// Opens the connection for an upstream; encrypted ones verify the upstream's certificate
    /// against `trustRoots` (the system's by default, `--dns-upstream-ca` for a private CA).
    static func open(_ upstream: DNSUpstream, group: any EventLoopGroup, trustRoots: NIOSSLTrustRoots) async throws -> any UpstreamConnection {
        switch upstream.transport {
        case .udp: try await UpstreamSocket.open(upstream, group: group)
        case .tls: try TLSUpstream(upstream, group: group, trustRoots: trustRoots)
        case .https: try HTTPSUpstream(upstream, group: group, trustRoots: trustRoots)
        }
    }

    /// The upstream's answer must be to the question asked (same name, case aside, and type).
    static func answers(_ answer: DNSMessage, _ question: DNSQuestion) -> Bool {
        answer.flags.isResponse && answer.questions.count == 1 && answer.questions[0].name.lowercased == question.name.lowercased
            && answer.questions[0].type == question.type
    }
}
