import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// DNS-over-TLS (RFC 7858): length-prefixed DNS (as over TCP) inside TLS, on its own port. The server
/// name a client asks for in its ClientHello (SNI) says who it is, since Android's Private DNS and
/// Apple's DNS Settings take a host name and nothing else: `{resolver token}.dns.HOST` is a device.
/// The name is read before the handshake, so the admission (a database lookup) is done once per
/// connection, while the client's first bytes wait in the pipeline.
public final class DNSOverTLSListener: Sendable {
    public let port: Int
    private let channel: any Channel

    private init(port: Int, channel: any Channel) {
        self.port = port
        self.channel = channel
    }

    /// `admit` maps the SNI host name (nil when the client sent none, e.g. it dialled an address)
    /// and the client's address to whom the connection's queries count for.
    public static func start(resolver: ProtectiveResolver, tls: TLSConfiguration, host: String, port: Int, group: any EventLoopGroup,
                             logger: Logger, admit: @escaping @Sendable (String?, SocketAddress?) async -> DNSAdmission) async throws -> DNSOverTLSListener {
        var configuration = tls
        // RFC 7858 §3.2 registers "dot"; clients that offer no ALPN are served too.
        configuration.applicationProtocols = ["dot"]
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw DNSConfigurationError("DNS-over-TLS cannot use the server's certificate and key: \(error)")
        }
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 256)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        // Closes a connection that sends nothing for 10 s, also before its handshake.
                        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .seconds(10)))
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SNIHandler { result in
                            let name: String? = if case .hostname(let name) = result { name } else { nil }
                            let admitted = channel.eventLoop.makePromise(of: DNSAdmission.self)
                            let remote = channel.remoteAddress
                            admitted.completeWithTask { await admit(name, remote) }
                            return admitted.futureResult.flatMapThrowing { admission in
                                try channel.pipeline.syncOperations.addHandlers([
                                    NIOSSLServerHandler(context: context),
                                    ByteToMessageHandler(DNSLengthPrefixDecoder()),
                                    StreamQueryHandler(resolver: resolver, admission: admission),
                                ])
                            }
                        }))
                        try channel.pipeline.syncOperations.addHandler(CloseWhenIdle())
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            throw DNSConfigurationError("could not listen for DNS-over-TLS on \(host) port \(port): \(error). Choose a free port with --dns-tls-port; ports below 1024 need privileges")
        }
        logger.debug("DNS-over-TLS listening", metadata: ["port": "\(channel.localAddress?.port ?? port)"])
        return DNSOverTLSListener(port: channel.localAddress?.port ?? port, channel: channel)
    }

    public func stop() async {
        try? await channel.close()
    }
}

/// Until the DNS handlers are in place (after the ClientHello), the idle timeout closes here; reads
/// pass through to the handlers added after it.
final class CloseWhenIdle: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) } else { context.fireUserInboundEventTriggered(event) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A failed handshake or a ClientHello that is not TLS: nothing to answer on this stream.
        context.close(promise: nil)
    }
}
