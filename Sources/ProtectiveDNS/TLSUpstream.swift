import MTDCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A DNS-over-TLS upstream (RFC 7858): one long-lived TLS connection, queries pipelined on it with
/// distinct ids and answers matched by id and question, as they may come back in any order
/// (RFC 7766 §6.2.1.1). A connection the upstream closed (idle timeout, restart) is opened again on
/// the next query; a query that was sent on a connection that closed before answering is asked
/// once more on a fresh one, since the upstream never saw it through.
final class TLSUpstream: UpstreamConnection {
    let upstream: DNSUpstream
    private let group: any EventLoopGroup
    private let context: NIOSSLContext
    private let current = NIOLockedValueBox<EventLoopFuture<StreamUpstreamConnection>?>(nil)

    init(_ upstream: DNSUpstream, group: any EventLoopGroup, trustRoots: NIOSSLTrustRoots) throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = trustRoots
        configuration.applicationProtocols = ["dot"]
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw DNSConfigurationError("upstream \(upstream): the TLS settings cannot be used: \(error)")
        }
        self.upstream = upstream
        self.group = group
    }

    func exchange(_ query: DNSMessage, timeout: TimeAmount) async throws -> DNSMessage {
        let deadline = NIODeadline.now() + timeout
        var attempt = 0
        while true {
            attempt += 1
            let connection = try await connection(deadline: deadline)
            do {
                return try await connection.exchange(query, deadline: deadline)
            } catch let closed as StreamUpstreamConnection.Closed {
                if closed.reason == nil, attempt == 1, NIODeadline.now() < deadline { continue }
                throw UpstreamFailure.unusable(upstream, closed.reason ?? "the connection closed before the answer")
            }
        }
    }

    /// The open connection, or a new one when there is none or it closed.
    private func connection(deadline: NIODeadline) async throws -> StreamUpstreamConnection {
        let future = current.withLockedValue { current -> EventLoopFuture<StreamUpstreamConnection> in
            if let existing = current { return existing }
            let made = connect(deadline: deadline)
            current = made
            return made
        }
        do {
            let connection = try await future.get()
            if connection.isOpen { return connection }
            forget(future)
            return try await self.connection(deadline: deadline)
        } catch {
            forget(future)
            throw UpstreamFailure.unusable(upstream, "could not connect over TLS: \(error)")
        }
    }

    private func forget(_ future: EventLoopFuture<StreamUpstreamConnection>) {
        current.withLockedValue { current in
            if current === future { current = nil }
        }
    }

    private func connect(deadline: NIODeadline) -> EventLoopFuture<StreamUpstreamConnection> {
        let upstream = self.upstream, context = self.context
        let loop = group.next()
        // SNI and the name checked: #NAME, else the host unless it is an address (then the
        // certificate's IP entries are checked against the address dialled).
        let name = upstream.serverName ?? (Self.isAddress(upstream.host) ? nil : upstream.host)
        let pending = StreamUpstreamConnection.Pending()
        return ClientBootstrap(group: loop)
            .connectTimeout(max(.milliseconds(1), deadline - .now()))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: name))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DNSLengthPrefixDecoder()))
                    try channel.pipeline.syncOperations.addHandler(StreamUpstreamConnection.AnswerHandler(pending: pending))
                }
            }
            .connect(host: upstream.host, port: upstream.port)
            .map { StreamUpstreamConnection(upstream: upstream, channel: $0, pending: pending) }
    }

    static func isAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }

    func close() async {
        let future = current.withLockedValue { current in
            defer { current = nil }
            return current
        }
        if let connection = try? await future?.get() { await connection.close() }
    }
}

/// One stream connection to an upstream with the queries in flight on it.
final class StreamUpstreamConnection: Sendable {
    /// The connection closed with the query unanswered; `reason` when it broke (a failed
    /// handshake, a bad certificate) rather than closed cleanly.
    struct Closed: Error {
        var reason: String?
    }

    struct Waiter: Sendable {
        var question: DNSQuestion
        var promise: EventLoopPromise<DNSMessage>
    }

    /// The waiters by id, and whether the connection is still open (a closed one takes no query).
    final class Pending: Sendable {
        let state = NIOLockedValueBox<(waiters: [UInt16: Waiter], open: Bool, problem: String?)>(([:], true, nil))

        func closeAll() {
            let (waiters, problem) = state.withLockedValue { state in
                defer { state = ([:], false, state.problem) }
                return (state.waiters, state.problem)
            }
            for waiter in waiters.values { waiter.promise.fail(Closed(reason: problem)) }
        }

        func broke(_ error: any Error) {
            state.withLockedValue { state in
                if state.problem == nil { state.problem = "\(error)" }
            }
        }
    }

    let upstream: DNSUpstream
    let channel: any Channel
    let pending: Pending

    init(upstream: DNSUpstream, channel: any Channel, pending: Pending) {
        self.upstream = upstream
        self.channel = channel
        self.pending = pending
    }

    var isOpen: Bool { pending.state.withLockedValue { $0.open } && channel.isActive }

    func exchange(_ query: DNSMessage, deadline: NIODeadline) async throws -> DNSMessage {
        guard let question = query.questions.first else { throw UpstreamFailure.unusable(upstream, "no question to ask") }
        let promise = channel.eventLoop.makePromise(of: DNSMessage.self)
        let id: UInt16? = pending.state.withLockedValue { state in
            guard state.open else { return nil }
            guard state.waiters.count < 60_000 else { return 0 }
            var id = UInt16.random(in: 1 ... .max)
            while state.waiters[id] != nil { id = UInt16.random(in: 1 ... .max) }
            state.waiters[id] = Waiter(question: question, promise: promise)
            return id
        }
        guard let id else { throw Closed(reason: nil) }
        guard id != 0 else { throw UpstreamFailure.unusable(upstream, "too many queries in flight") }
        var sent = query
        sent.id = id
        let pending = self.pending, upstream = self.upstream
        let timer = channel.eventLoop.scheduleTask(deadline: deadline) {
            if let waiter = pending.state.withLockedValue({ $0.waiters.removeValue(forKey: id) }) { waiter.promise.fail(UpstreamFailure.timeout(upstream)) }
        }
        defer { timer.cancel() }
        channel.writeAndFlush(DNSLengthPrefixDecoder.frame(sent.encoded(), allocator: channel.allocator)).whenFailure { _ in
            if let waiter = pending.state.withLockedValue({ $0.waiters.removeValue(forKey: id) }) { waiter.promise.fail(Closed(reason: pending.state.withLockedValue { $0.problem })) }
        }
        return try await promise.futureResult.get()
    }

    func close() async {
        pending.closeAll()
        try? await channel.close()
    }

    /// Routes each answer on the stream to the query waiting for it; the stream closing fails the rest.
    final class AnswerHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let pending: Pending

        init(pending: Pending) {
            self.pending = pending
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard let message = try? DNSMessage(decoding: unwrapInboundIn(data).readableBytesView) else { return }
            let waiter: Waiter? = pending.state.withLockedValue { state in
                guard let waiter = state.waiters[message.id], UpstreamConnections.answers(message, waiter.question) else { return nil }
                state.waiters[message.id] = nil
                return waiter
            }
            waiter?.promise.succeed(message)
        }

        func channelInactive(context: ChannelHandlerContext) {
            pending.closeAll()
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // A failed handshake or a broken stream: the waiters learn why when the channel closes.
            pending.broke(error)
            context.close(promise: nil)
        }
    }
}
