import Foundation

/// One SMTP reply (RFC 5321 §4.2): a three-digit code and its text lines ("250-first", "250 last").
public struct SMTPReply: Sendable, Equatable {
    public var code: Int
    public var lines: [String]

    public var isPositive: Bool { (200..<400).contains(code) }
    public var text: String { lines.joined(separator: " ") }
}

/// Turns the bytes a relay sends into replies. Pure, so the fuzz harness drives it directly: any
/// input yields replies or a `SMTPProtocolError`, never a trap, and memory stays bounded (a line
/// longer than `maxLineBytes` or a reply of more than `maxLines` lines is an error, not a buffer).
public struct SMTPReplyParser: Sendable {
    public static let maxLineBytes = 4_096
    public static let maxLines = 200

    private var buffer: [UInt8] = []
    private var pending: [String] = []
    private var pendingCode: Int?

    public init() {}

    /// No partial line or reply is waiting for more bytes.
    public var isIdle: Bool { buffer.isEmpty && pending.isEmpty }

    /// Feeds received bytes; answers the replies they complete.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(SMTPProtocolError) -> [SMTPReply] {
        var replies: [SMTPReply] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if buffer.last == UInt8(ascii: "\r") { buffer.removeLast() }
                if let reply = try line(buffer) { replies.append(reply) }
                buffer.removeAll(keepingCapacity: true)
            } else {
                guard buffer.count < Self.maxLineBytes else { throw SMTPProtocolError("a reply line is longer than \(Self.maxLineBytes) bytes") }
                buffer.append(byte)
            }
        }
        return replies
    }

    private mutating func line(_ bytes: [UInt8]) throws(SMTPProtocolError) -> SMTPReply? {
        guard bytes.count >= 3, bytes[0..<3].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(bytes[0])
        else {
            throw SMTPProtocolError("not an SMTP reply: \(Self.printable(bytes))")
        }
        let code = Int(bytes[0] - UInt8(ascii: "0")) * 100 + Int(bytes[1] - UInt8(ascii: "0")) * 10 + Int(bytes[2] - UInt8(ascii: "0"))
        let separator: UInt8? = bytes.count > 3 ? bytes[3] : nil
        guard separator == nil || separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else {
            throw SMTPProtocolError("not an SMTP reply: \(Self.printable(bytes))")
        }
        if let pendingCode, pendingCode != code { throw SMTPProtocolError("a reply's lines disagree on the code (\(pendingCode), then \(code))") }
        let text = bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : ""
        pending.append(text)
        guard pending.count <= Self.maxLines else { throw SMTPProtocolError("a reply has more than \(Self.maxLines) lines") }
        if separator == UInt8(ascii: "-") {
            pendingCode = code
            return nil
        }
        let reply = SMTPReply(code: code, lines: pending)
        pending.removeAll()
        pendingCode = nil
        return reply
    }

    static func printable(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix(80), as: UTF8.self).unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : String($0) }.joined()
    }
}

public struct SMTPProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
