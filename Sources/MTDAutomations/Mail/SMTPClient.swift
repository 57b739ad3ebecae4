import Foundation
import MTDCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import UEMClient

/// Why an e-mail was not handed to the relay, in words an admin can act on.
public struct SMTPFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// The relay's reply code, when it answered with one.
    public var code: Int?

    public init(_ message: String, code: Int? = nil) {
        self.message = message
        self.code = code
    }

    public var description: String { message }
}

/// A small SMTP submission client (RFC 5321, STARTTLS RFC 3207, AUTH PLAIN/LOGIN RFC 4954) on
/// SwiftNIO: one connection per message, to an address the egress policy allowed (the name is
/// resolved once and the checked address is the one connected to).
public struct SMTPClient: Sendable {
    public var settings: SMTPSettings
    public var egress: EgressGuard

    public init(settings: SMTPSettings, egress: EgressGuard) {
        self.settings = settings
        self.egress = egress
    }

    public func send(_ message: MailMessage, now: Date = Date()) async throws(SMTPFailure) {
        guard MailMessage.isAddress(message.from) else { throw SMTPFailure("the sender \(message.from.prefix(100)) is not an e-mail address") }
        guard !message.to.isEmpty else { throw SMTPFailure("the message has no recipient") }
        if let bad = message.to.first(where: { !MailMessage.isAddress($0) }) { throw SMTPFailure("\(bad.prefix(100)) is not an e-mail address") }
        let addresses = try await resolve()
        let timedOut = NIOLockedValueBox(false)
        let tls: NIOSSLContext
        do {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            if let pem = settings.trustedCertificatesPEM {
                configuration.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))]
            }
            tls = try NIOSSLContext(configuration: configuration)
        } catch {
            throw SMTPFailure("the trusted certificates cannot be read: \(error)")
        }
        let serverName = IPAddress.parse(settings.host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))) == nil ? settings.host : nil
        let implicitTLS = settings.security == .tls
        // Each allowed address in turn (a name often has ::1 and 127.0.0.1; the relay may listen on one).
        var connected: (channel: any Channel, replies: AsyncThrowingStream<SMTPReply, any Error>)?
        var lastError: (any Error)?
        for address in addresses {
            // A stream per attempt: a failed attempt's channel must not end the next one's replies.
            let (replies, continuation) = AsyncThrowingStream<SMTPReply, any Error>.makeStream()
            do {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connectTimeout(.milliseconds(Int64(min(settings.timeoutSeconds, 300) * 1_000)))
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            if implicitTLS {
                                try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: serverName))
                            }
                            try channel.pipeline.syncOperations.addHandler(SMTPReplyHandler(continuation: continuation))
                        }
                    }
                    .connect(to: address).get()
                connected = (channel, replies)
                break
            } catch {
                continuation.finish()
                lastError = error
            }
        }
        guard let (channel, replies) = connected else {
            throw SMTPFailure("cannot connect to \(settings.host):\(settings.port): \(lastError.map { "\($0)" } ?? "no address")")
        }
        let deadline = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(min(settings.timeoutSeconds, 300) * 1_000))) {
            timedOut.withLockedValue { $0 = true }
            channel.close(promise: nil)
        }
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        var conversation = SMTPConversation(channel: channel, replies: replies.makeAsyncIterator(), timedOut: timedOut, host: settings.host)
        try await conversation.run(message, settings: settings, tls: tls, serverName: serverName, now: now)
    }

    private func resolve() async throws(SMTPFailure) -> [SocketAddress] {
        let label = "smtp://\(settings.host):\(settings.port)"
        let addresses: [IPAddress]
        do {
            addresses = try await egress.addresses(of: settings.host, label: label)
        } catch {
            throw SMTPFailure(error.description)
        }
        let sockets = addresses.compactMap { try? SocketAddress(ipAddress: $0.description, port: settings.port) }
        guard !sockets.isEmpty else { throw SMTPFailure("\(settings.host) has no usable address") }
        return sockets
    }
}

/// One message's dialogue with the relay.
struct SMTPConversation {
    let channel: any Channel
    var replies: AsyncThrowingStream<SMTPReply, any Error>.AsyncIterator
    let timedOut: NIOLockedValueBox<Bool>
    let host: String
    var consumed = 0

    mutating func run(_ message: MailMessage, settings: SMTPSettings, tls: NIOSSLContext, serverName: String?, now: Date) async throws(SMTPFailure) {
        let domain = message.from.split(separator: "@").last.map(String.init) ?? "openmtd.local"
        try await expect("the greeting", 220)
        var extensions = try await hello(domain)
        if settings.security == .starttls {
            guard extensions.keys.contains("STARTTLS") else {
                throw SMTPFailure("\(host) does not offer STARTTLS; set security to TLS for port 465, or NONE only for a relay on your own network")
            }
            try await command("STARTTLS", expecting: 220)
            let expectedReplies = consumed
            let channel = self.channel
            do {
                try await channel.eventLoop.submit {
                    // Anything the relay sent after its 220 came before TLS: a STARTTLS injection.
                    let handler = try channel.pipeline.syncOperations.handler(type: SMTPReplyHandler.self)
                    guard handler.isIdle(afterReplies: expectedReplies) else { throw SMTPProtocolError("the relay sent data between STARTTLS and the TLS handshake") }
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: serverName), position: .first)
                }.get()
            } catch {
                throw SMTPFailure("STARTTLS with \(host) failed: \(error)")
            }
            extensions = try await hello(domain)
        }
        if let username = settings.username {
            let password = settings.password ?? ""
            let mechanisms = Set((extensions["AUTH"] ?? "").uppercased().split(separator: " ").map(String.init))
            if mechanisms.contains("PLAIN") {
                let token = Data("\0\(username)\0\(password)".utf8).base64EncodedString()
                try await command("AUTH PLAIN \(token)", expecting: 235, shown: "AUTH PLAIN (credentials)")
            } else if mechanisms.contains("LOGIN") {
                try await command("AUTH LOGIN", expecting: 334)
                try await command(Data(username.utf8).base64EncodedString(), expecting: 334, shown: "the username")
                try await command(Data(password.utf8).base64EncodedString(), expecting: 235, shown: "the password")
            } else {
                throw SMTPFailure("\(host) offers no AUTH PLAIN or LOGIN (it offers: \(extensions["AUTH"] ?? "none"))")
            }
        }
        try await command("MAIL FROM:<\(message.from)>", expecting: 250)
        for recipient in message.to {
            try await command("RCPT TO:<\(recipient)>", expecting: 250, 251)
        }
        try await command("DATA", expecting: 354)
        try await write(MailMessage.dotStuffed(message.rendered(at: now, domain: domain)))
        try await expect("the message", 250)
        try? await write("QUIT\r\n")
    }

    /// EHLO; answers the extensions by keyword (`AUTH` → `PLAIN LOGIN`).
    private mutating func hello(_ domain: String) async throws(SMTPFailure) -> [String: String] {
        try await write("EHLO \(domain)\r\n")
        let reply = try await expect("EHLO", 250)
        var extensions: [String: String] = [:]
        for line in reply.lines.dropFirst() {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard let keyword = parts.first else { continue }
            extensions[keyword.uppercased()] = parts.count > 1 ? String(parts[1]) : ""
        }
        return extensions
    }

    @discardableResult
    private mutating func command(_ line: String, expecting codes: Int..., shown: String? = nil) async throws(SMTPFailure) -> SMTPReply {
        try await write(line + "\r\n")
        return try await expect(shown ?? line, codes)
    }

    @discardableResult
    private mutating func expect(_ what: String, _ codes: Int...) async throws(SMTPFailure) -> SMTPReply {
        try await expect(what, codes)
    }

    private mutating func expect(_ what: String, _ codes: [Int]) async throws(SMTPFailure) -> SMTPReply {
        let reply: SMTPReply?
        do {
            reply = try await replies.next()
        } catch {
            throw SMTPFailure("\(host) answered \(what) with something that is not SMTP: \(error)")
        }
        guard let reply else {
            if timedOut.withLockedValue({ $0 }) { throw SMTPFailure("\(host) did not answer \(what) in time") }
            throw SMTPFailure("\(host) closed the connection after \(what)")
        }
        consumed += 1
        guard codes.contains(reply.code) else {
            throw SMTPFailure("\(host) refused \(what): \(reply.code) \(reply.text.prefix(300))", code: reply.code)
        }
        return reply
    }

    private func write(_ text: String) async throws(SMTPFailure) {
        do {
            try await channel.writeAndFlush(ByteBuffer(string: text)).get()
        } catch {
            throw SMTPFailure("the connection to \(host) failed: \(error)")
        }
    }
}

/// Reads the relay's bytes on the event loop and hands complete replies to the conversation.
final class SMTPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var parser = SMTPReplyParser()
    private var yielded = 0
    private let continuation: AsyncThrowingStream<SMTPReply, any Error>.Continuation

    init(continuation: AsyncThrowingStream<SMTPReply, any Error>.Continuation) {
        self.continuation = continuation
    }

    func isIdle(afterReplies count: Int) -> Bool {
        yielded == count && parser.isIdle
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            for reply in try parser.feed(buffer.readableBytesView) {
                yielded += 1
                continuation.yield(reply)
            }
        } catch {
            continuation.finish(throwing: error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish(throwing: error)
        context.close(promise: nil)
    }
}
