import Foundation
import MTDCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Why an upstream gave no usable answer.
public enum UpstreamFailure: Error, Sendable, CustomStringConvertible {
    case timeout(DNSUpstream)
    case unusable(DNSUpstream, String)

    public var description: String {
        switch self {
        case .timeout(let upstream): "\(upstream) did not answer in time"
        case .unusable(let upstream, let reason): "\(upstream): \(reason)"
        }
    }
}

/// One UDP socket to one upstream, shared by every query to it: each query gets a random id not
/// in flight, and an answer counts only when it comes from the upstream's address with that id
/// and the same question (RFC 5452's checks, against spoofed or stray answers). An answer with TC
/// is asked again over TCP.
final class UpstreamSocket: UpstreamConnection {
    let upstream: DNSUpstream
    let address: SocketAddress
    private let channel: any Channel
    private let group: any EventLoopGroup
    private let pending: NIOLockedValueBox<[UInt16: Waiter]>

    struct Waiter: Sendable {
        var question: DNSQuestion
        var promise: EventLoopPromise<DNSMessage>
    }

    private init(upstream: DNSUpstream, address: SocketAddress, channel: any Channel, group: any EventLoopGroup, pending: NIOLockedValueBox<[UInt16: Waiter]>) {
        self.upstream = upstream
        self.address = address
        self.channel = channel
        self.group = group
        self.pending = pending
    }

    static func open(_ upstream: DNSUpstream, group: any EventLoopGroup) async throws -> UpstreamSocket {
        let address = try SocketAddress.makeAddressResolvingHost(upstream.host, port: upstream.port)
        let pending = NIOLockedValueBox<[UInt16: Waiter]>([:])
        let bindHost = address.protocol == .inet6 ? "::" : "0.0.0.0"
        let channel = try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(AnswerHandler(address: address, pending: pending)) }
            }
            .bind(host: bindHost, port: 0).get()
        return UpstreamSocket(upstream: upstream, address: address, channel: channel, group: group, pending: pending)
    }

    func close() async {
        try? await channel.close()
    }

    /// Sends `query` (its id replaced) and waits for the matching answer.
    func exchange(_ query: DNSMessage, timeout: TimeAmount) async throws -> DNSMessage {
        guard let question = query.questions.first else { throw UpstreamFailure.unusable(upstream, "no question to ask") }
        let promise = channel.eventLoop.makePromise(of: DNSMessage.self)
        let id: UInt16? = pending.withLockedValue { pending in
            guard pending.count < 60_000 else { return nil }
            var id = UInt16.random(in: .min ... .max)
            while pending[id] != nil { id = UInt16.random(in: .min ... .max) }
            pending[id] = Waiter(question: question, promise: promise)
            return id
        }
        guard let id else { throw UpstreamFailure.unusable(upstream, "too many queries in flight") }
        var sent = query
        sent.id = id
        let bytes = sent.encoded()
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        let pending = self.pending, upstream = self.upstream
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            if let waiter = pending.withLockedValue({ $0.removeValue(forKey: id) }) { waiter.promise.fail(UpstreamFailure.timeout(upstream)) }
        }
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: buffer)).whenFailure { error in
            if let waiter = pending.withLockedValue({ $0.removeValue(forKey: id) }) { waiter.promise.fail(UpstreamFailure.unusable(upstream, "\(error)")) }
        }
        let answer: DNSMessage
        do {
            answer = try await promise.futureResult.get()
            timer.cancel()
        } catch {
            timer.cancel()
            throw error
        }
        guard answer.flags.truncated else { return answer }
        return try await TCPExchange.ask(sent, address: address, upstream: upstream, group: group, timeout: timeout)
    }

    /// Routes each datagram from the upstream to the query waiting for it.
    final class AnswerHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>

        let address: SocketAddress
        let pending: NIOLockedValueBox<[UInt16: Waiter]>

        init(address: SocketAddress, pending: NIOLockedValueBox<[UInt16: Waiter]>) {
            self.address = address
            self.pending = pending
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            guard envelope.remoteAddress == address, let message = try? DNSMessage(decoding: envelope.data.readableBytesView), message.flags.isResponse else { return }
            let waiter: Waiter? = pending.withLockedValue { pending in
                guard let waiter = pending[message.id], message.questions.count == 1,
                      message.questions[0].name.lowercased == waiter.question.name.lowercased,
                      message.questions[0].type == waiter.question.type else { return nil }
                pending[message.id] = nil
                return waiter
            }
            waiter?.promise.succeed(message)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // An ICMP port-unreachable surfaces here; the query's timeout moves on to the next upstream.
        }
    }
}

/// One query over a fresh TCP connection (RFC 7766): the fallback after a truncated UDP answer.
enum TCPExchange {
    static func ask(_ query: DNSMessage, address: SocketAddress, upstream: DNSUpstream, group: any EventLoopGroup, timeout: TimeAmount) async throws -> DNSMessage {
        let loop = group.next()
        let promise = OncePromise(loop.makePromise(of: [UInt8].self))
        let channel = try await ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DNSLengthPrefixDecoder()))
                    try channel.pipeline.syncOperations.addHandler(FirstMessageHandler(promise: promise))
                }
            }
            .connect(to: address).get()
        let timer = loop.scheduleTask(in: timeout) { promise.fail(UpstreamFailure.timeout(upstream)) }
        defer {
            timer.cancel()
            channel.close(promise: nil)
        }
        var framed = query
        framed.id = query.id
        try await channel.writeAndFlush(DNSLengthPrefixDecoder.frame(framed.encoded(), allocator: channel.allocator))
        let bytes = try await promise.future.get()
        let answer: DNSMessage
        do {
            answer = try DNSMessage(decoding: bytes)
        } catch {
            throw UpstreamFailure.unusable(upstream, "\(error)")
        }
        guard answer.id == query.id, answer.questions == query.questions || answer.questions.map(\.name.lowercased) == query.questions.map(\.name.lowercased) else {
            throw UpstreamFailure.unusable(upstream, "the TCP answer is for another query")
        }
        return answer
    }

    final class FirstMessageHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let promise: OncePromise<[UInt8]>

        init(promise: OncePromise<[UInt8]>) {
            self.promise = promise
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            promise.succeed(Array(unwrapInboundIn(data).readableBytesView))
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise.fail(ChannelError.eof)
        }
    }
}

/// DNS over a stream (TCP, TLS): each message is preceded by its length in two bytes (RFC 1035 §4.2.2).
struct DNSLengthPrefixDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self), buffer.readableBytes >= 2 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 2)
        guard let message = buffer.readSlice(length: Int(length)) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(message))
        return .continue
    }

    static func frame(_ bytes: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: bytes.count + 2)
        buffer.writeInteger(UInt16(clamping: bytes.count))
        buffer.writeBytes(bytes.prefix(Int(UInt16.max)))
        return buffer
    }
}

/// A promise completed by whichever comes first (the answer, the timeout, the connection closing);
/// later attempts are ignored.
final class OncePromise<Value: Sendable>: Sendable {
    private let promise: NIOLockedValueBox<EventLoopPromise<Value>?>
    let future: EventLoopFuture<Value>

    init(_ promise: EventLoopPromise<Value>) {
        self.promise = NIOLockedValueBox(promise)
        future = promise.futureResult
    }

    func succeed(_ value: Value) {
        promise.withLockedValue { current in
            let taken = current
            current = nil
            return taken
        }?.succeed(value)
    }

    func fail(_ error: any Error) {
        promise.withLockedValue { current in
            let taken = current
            current = nil
            return taken
        }?.fail(error)
    }
}
