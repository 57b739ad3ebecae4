import Foundation

/// A plain-text e-mail as OpenMTD sends it: UTF-8, base64 body, a Message-ID made from the
/// idempotency key (so a receiver or a mail filter can drop a second copy after a retry).
public struct MailMessage: Sendable, Equatable {
    public var from: String
    public var to: [String]
    public var subject: String
    public var body: String
    /// Added as `X-OpenMTD-Idempotency-Key` and used in the Message-ID.
    public var idempotencyKey: String?

    public init(from: String, to: [String], subject: String, body: String, idempotencyKey: String? = nil) {
        self.from = from
        self.to = to
        self.subject = subject
        self.body = body
        self.idempotencyKey = idempotencyKey
    }

    /// Whether an address can go into MAIL FROM / RCPT TO and a header as it is: one `@`, a local
    /// part and a domain, no spaces, controls, angle brackets or commas (no header or command injection).
    public static func isAddress(_ text: String) -> Bool {
        guard text.utf8.count <= 254, !text.isEmpty else { return false }
        let forbidden = CharacterSet.whitespacesAndNewlines.union(.controlCharacters).union(CharacterSet(charactersIn: "<>,;:\"()[]\\"))
        guard text.unicodeScalars.allSatisfy({ !forbidden.contains($0) }) else { return false }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].utf8.count <= 64 else { return false }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 1 && labels.allSatisfy { !$0.isEmpty && $0.utf8.count <= 63 }
    }

    /// The message as DATA sends it (before dot-stuffing): CRLF lines, headers, a blank line, the body.
    public func rendered(at date: Date, domain: String) -> String {
        var headers = [
            "From: \(from)",
            "To: \(to.joined(separator: ", "))",
            "Subject: \(Self.encodedWord(subject))",
            "Date: \(Self.rfc5322(date))",
            "Message-ID: <\(messageID(date))@\(domain)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "Auto-Submitted: auto-generated",
        ]
        if let idempotencyKey { headers.append("X-OpenMTD-Idempotency-Key: \(Self.headerSafe(idempotencyKey))") }
        let normalized = body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
        let encoded = Data(normalized.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return headers.joined(separator: "\r\n") + "\r\n\r\n" + encoded + "\r\n"
    }

    /// DATA's transparency (RFC 5321 §4.5.2): a line that starts with "." gets a second one; the
    /// terminating "." line follows.
    public static func dotStuffed(_ rendered: String) -> String {
        let lines = rendered.components(separatedBy: "\r\n").map { $0.hasPrefix(".") ? "." + $0 : $0 }
        var text = lines.joined(separator: "\r\n")
        if !text.hasSuffix("\r\n") { text += "\r\n" }
        return text + ".\r\n"
    }

    private func messageID(_ date: Date) -> String {
        let key = idempotencyKey.map { Self.headerSafe($0).replacingOccurrences(of: ":", with: ".") } ?? UUID().uuidString.lowercased()
        return "openmtd.\(key)"
    }

    /// RFC 2047 for a subject that is not plain ASCII; CR and LF never reach a header.
    static func encodedWord(_ text: String) -> String {
        let flat = headerSafe(text)
        guard flat.unicodeScalars.contains(where: { !$0.isASCII }) else { return flat }
        return "=?UTF-8?B?\(Data(flat.utf8).base64EncodedString())?="
    }

    static func headerSafe(_ text: String) -> String {
        String(text.unicodeScalars.map { CharacterSet.newlines.contains($0) || CharacterSet.controlCharacters.contains($0) ? " " : Character($0) }.prefix(900))
    }

    static func rfc5322(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
