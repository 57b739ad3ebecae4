import Foundation
import MTDCore

/// The relay an enterprise's e-mail goes through (`PUT /api/v1/settings/smtp`).
public struct SMTPSettings: Codable, Sendable, Equatable {
    public enum Security: String, Codable, Sendable, CaseIterable, WireEnum {
        /// Plain connection upgraded with STARTTLS (port 587); refused if the relay does not offer it.
        case starttls = "STARTTLS"
        /// TLS from the first byte (port 465).
        case tls = "TLS"
        /// No encryption: only for a relay on the same host or network, and never with a password.
        case none = "NONE"
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var username: String?
    public var password: String?
    /// The sender, e.g. `OpenMTD <mtd@example.com>` is not accepted: the bare address.
    public var from: String
    /// PEM certificates trusted besides the system's roots (a private relay's CA).
    public var trustedCertificatesPEM: String?
    public var timeoutSeconds: Double

    public static let fields = ["host", "port", "security", "username", "password", "from", "trustedCertificatesPEM", "timeoutSeconds"]

    public init(host: String, port: Int, security: Security, username: String? = nil, password: String? = nil, from: String,
                trustedCertificatesPEM: String? = nil, timeoutSeconds: Double = 30) {
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.from = from
        self.trustedCertificatesPEM = trustedCertificatesPEM
        self.timeoutSeconds = timeoutSeconds
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: Self.fields)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        host = try container.decode(String.self, forKey: .host)
        port = try container.decode(Int.self, forKey: .port)
        security = try container.decodeIfPresent(Security.self, forKey: .security) ?? .starttls
        username = try container.decodeIfPresent(String.self, forKey: .username)
        password = try container.decodeIfPresent(String.self, forKey: .password)
        from = try container.decode(String.self, forKey: .from)
        trustedCertificatesPEM = try container.decodeIfPresent(String.self, forKey: .trustedCertificatesPEM)
        timeoutSeconds = try container.decodeIfPresent(Double.self, forKey: .timeoutSeconds) ?? 30
    }

    /// Field-level problems, as `DocumentError` paths (`$.port`).
    public func validate() throws(DocumentError) {
        let trimmed = host.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, host.utf8.count <= 253, !host.contains(where: { $0.isWhitespace || $0 == "/" || $0 == "@" }) else {
            throw DocumentError(path: "$.host", message: "expected the relay's host name or address, e.g. smtp.example.com")
        }
        guard (1...65_535).contains(port) else { throw DocumentError(path: "$.port", message: "must be from 1 to 65535, got \(port)") }
        guard MailMessage.isAddress(from) else { throw DocumentError(path: "$.from", message: "expected a bare e-mail address such as mtd@example.com") }
        if let username, username.isEmpty || username.utf8.count > 256 || username.contains(where: \.isNewline) {
            throw DocumentError(path: "$.username", message: "must be 1 to 256 characters on one line")
        }
        if username != nil, (password ?? "").isEmpty { throw DocumentError(path: "$.password", message: "a username needs its password") }
        if let password, password.utf8.count > 1_024 || password.contains(where: \.isNewline) {
            throw DocumentError(path: "$.password", message: "must be at most 1024 characters on one line")
        }
        if username != nil, security == .none {
            throw DocumentError(path: "$.security", message: "a password is never sent unencrypted: use STARTTLS or TLS")
        }
        if let pem = trustedCertificatesPEM, pem.utf8.count > 65_536 || !pem.contains("-----BEGIN CERTIFICATE-----") {
            throw DocumentError(path: "$.trustedCertificatesPEM", message: "expected PEM certificates (-----BEGIN CERTIFICATE-----), at most 64 KiB")
        }
        guard timeoutSeconds.isFinite, (1...60).contains(timeoutSeconds) else {
            throw DocumentError(path: "$.timeoutSeconds", message: "must be from 1 to 60 seconds")
        }
    }
}
