#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore
import NIOPosix

/// Plain DNS over UDP and TCP (RFC 1035, RFC 7766) for local networks and tests. Every query on
/// these ports counts for one enterprise, without device attribution.
public final class DNSListeners: Sendable {
    public let udpPort: Int?
    public let tcpPort: Int?
    private let channels: [any Channel]

    private init(udpPort: Int?, tcpPort: Int?, channels: [any Channel]) {
        self.udpPort = udpPort
        self.tcpPort = tcpPort
        self.channels = channels
    }

    /// Binds the ports asked for (nil leaves a transport off). Port 0 picks a free port; with both
    /// at 0, UDP and TCP get the same port, as clients retry a truncated answer over TCP on the
    /// port they asked over UDP.
    /// `admit` says whom a source address's queries count for (or that it is refused); it runs for
    /// every datagram, so it must be cheap.
    public static func start(resolver: ProtectiveResolver, admit: @escaping @Sendable (SocketAddress?) -> DNSAdmission, host: String,
                             udpPort: Int?, tcpPort: Int?, group: any EventLoopGroup) async throws -> DNSListeners {
        var lastError: (any Error)?
        for _ in 0..<(udpPort == 0 && tcpPort == 0 ? 10 : 1) {
            var channels: [any Channel] = []
            do {
                var boundUDP: Int?, boundTCP: Int?
                if let udpPort {
                    // One socket per event loop on the same port (SO_REUSEPORT: the kernel spreads
                    // clients over them), since a datagram channel is served by one thread.
                    let loops = Array(group.makeIterator())
                    let first = try await bindUDP(resolver: resolver, admit: admit, host: host, port: udpPort, group: loops.first ?? group.next())
                    channels.append(first)
                    boundUDP = first.localAddress?.port
                    for loop in loops.dropFirst() {
                        channels.append(try await bindUDP(resolver: resolver, admit: admit, host: host, port: boundUDP ?? udpPort, group: loop))
                    }
                }
                if let tcpPort {
                    let port = tcpPort == 0 && udpPort == 0 ? (boundUDP ?? 0) : tcpPort
                    let channel = try await bindTCP(resolver: resolver, admit: admit, host: host, port: port, group: group)
                    channels.append(channel)
                    boundTCP = channel.localAddress?.port
                }
                return DNSListeners(udpPort: boundUDP, tcpPort: boundTCP, channels: channels)
            } catch {
                lastError = error
                for channel in channels { try? await channel.close() }
            }
        }
        throw DNSConfigurationError("could not listen for DNS on \(host) (UDP \(udpPort.map(String.init) ?? "off"), TCP \(tcpPort.map(String.init) ?? "off")): \(lastError.map { "\($0)" } ?? "unknown error"). Choose free ports with --dns-udp-port and --dns-tcp-port; ports below 1024 need privileges")
    }

    static func bindUDP(resolver: ProtectiveResolver, admit: @escaping @Sendable (SocketAddress?) -> DNSAdmission, host: String, port: Int, group: any EventLoopGroup) async throws -> any Channel {
        try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.socketOption(NIOBSDSocket.Option(rawValue: SO_REUSEPORT)), value: 1)
            .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
            // recvmmsg: up to 32 queries per system call under load. NIO splits the receive buffer
            // among them, so each gets 4,096 bytes (a query is far smaller).
            .channelOption(.datagramVectorReadMessageCount, value: 32)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 32 * 4_096))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DatagramQueryHandler(resolver: resolver, admit: admit))
                }
            }
            .bind(host: host, port: port).get()
    }

    static func bindTCP(resolver: ProtectiveResolver, admit: @escaping @Sendable (SocketAddress?) -> DNSAdmission, host: String, port: Int, group: any EventLoopGroup) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .seconds(10)))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DNSLengthPrefixDecoder()))
                    try channel.pipeline.syncOperations.addHandler(StreamQueryHandler(resolver: resolver, admission: admit(channel.remoteAddress)))
                }
            }
            .bind(host: host, port: port).get()
    }

    public func stop() async {
        for channel in channels { try? await channel.close() }
    }
}

/// One datagram, one query: blocked and cached names are answered on the event loop; the rest in
/// a task once the upstream answered.
final class DatagramQueryHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    let resolver: ProtectiveResolver
    let admit: @Sendable (SocketAddress?) -> DNSAdmission

    init(resolver: ProtectiveResolver, admit: @escaping @Sendable (SocketAddress?) -> DNSAdmission) {
        self.resolver = resolver
        self.admit = admit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let remote = envelope.remoteAddress
        let outcome = switch admit(remote) {
        case .client(let client): resolver.answer(Array(envelope.data.readableBytesView), from: client, udp: true)
        case .refused(let reason): resolver.refuse(Array(envelope.data.readableBytesView), reason: reason)
        }
        // Answers ready now are written and flushed together at the end of the read batch
        // (recvmmsg hands up to 32 at once), so NIO sends them with one sendmmsg, not one call each.
        if case .now(let bytes) = outcome {
            context.write(wrapOutboundOut(Self.envelope(bytes, to: remote, allocator: context.channel.allocator)), promise: nil)
            return
        }
        outcome.deliver(on: context.channel) { bytes, allocator in Self.envelope(bytes, to: remote, allocator: allocator) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A client that went away (ICMP unreachable) must not close the server's socket.
    }

    static func envelope(_ bytes: [UInt8], to remote: SocketAddress, allocator: ByteBufferAllocator) -> AddressedEnvelope<ByteBuffer> {
        var buffer = allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        return AddressedEnvelope(remoteAddress: remote, data: buffer)
    }
}

/// Who a connection's queries are answered for: a client, or nobody (every query is refused with
/// the reason, e.g. a DoT server name holding an unknown resolver token).
public enum DNSAdmission: Sendable {
    case client(DNSClient)
    case refused(String)
}

/// Length-prefixed queries on a stream, answered as they complete (RFC 7766 §6.2.1.1 allows out of
/// order); the connection closes after 10 s without a query, or on a message that is not DNS.
final class StreamQueryHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let resolver: ProtectiveResolver
    let admission: DNSAdmission

    init(resolver: ProtectiveResolver, admission: DNSAdmission) {
        self.resolver = resolver
        self.admission = admission
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = unwrapInboundIn(data)
        let outcome: ProtectiveResolver.Outcome = switch admission {
        case .client(let client): resolver.answer(Array(message.readableBytesView), from: client, udp: false)
        case .refused(let reason): resolver.refuse(Array(message.readableBytesView), reason: reason)
        }
        // A message that cannot be answered on a stream means the stream is not DNS: close it.
        if case .drop = outcome { return context.close(promise: nil) }
        outcome.deliver(on: context.channel, DNSLengthPrefixDecoder.frame)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) } else { context.fireUserInboundEventTriggered(event) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

extension ProtectiveResolver.Outcome {
    /// Writes the answer, framed for its transport: now, or once the upstream answered (a task).
    func deliver<Frame: Sendable>(on channel: any Channel, _ frame: @escaping @Sendable ([UInt8], ByteBufferAllocator) -> Frame) {
        switch self {
        case .drop:
            return
        case .now(let bytes):
            channel.writeAndFlush(frame(bytes, channel.allocator), promise: nil)
        case .later(let work):
            Task {
                let bytes = await work()
                channel.writeAndFlush(frame(bytes, channel.allocator), promise: nil)
            }
        }
    }
}
