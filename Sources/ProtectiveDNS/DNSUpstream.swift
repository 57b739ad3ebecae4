import Foundation
import MTDCore

/// One upstream resolver the protective resolver forwards to (`--dns-upstream`, repeatable).
public struct DNSUpstream: Sendable, Hashable, CustomStringConvertible {
    public enum Transport: String, Sendable {
        case udp, tls, https
    }

    public var transport: Transport
    public var host: String
    public var port: Int
    /// The DoH URL path (`/dns-query`) for `https://`.
    public var path: String

    /// Parses `udp://HOST:PORT`, `tls://HOST:PORT` or `https://HOST[:PORT]/PATH`; IPv6 hosts in brackets.
    public init(parsing text: String) throws(DNSConfigurationError) {
        guard let schemeEnd = text.range(of: "://") else {
            throw DNSConfigurationError("upstream \"\(text)\": write it as udp://HOST:PORT, tls://HOST:PORT or https://HOST/dns-query")
        }
        guard let transport = Transport(rawValue: text[..<schemeEnd.lowerBound].lowercased()) else {
            throw DNSConfigurationError("upstream \"\(text)\": the scheme must be udp, tls or https")
        }
        var rest = Substring(text[schemeEnd.upperBound...])
        var path = "/dns-query"
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[slash...])
            rest = rest[..<slash]
        }
        let defaultPort = transport == .udp ? 53 : (transport == .tls ? 853 : 443)
        var host: Substring, port = defaultPort
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw DNSConfigurationError("upstream \"\(text)\": an IPv6 address needs its closing ]") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { port = try Self.port(after.dropFirst(), text) } else if !after.isEmpty {
                throw DNSConfigurationError("upstream \"\(text)\": expected :PORT after the address")
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            port = try Self.port(rest[rest.index(after: colon)...], text)
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw DNSConfigurationError("upstream \"\(text)\": the host is missing") }
        self.transport = transport
        self.host = String(host)
        self.port = port
        self.path = path
    }

    private static func port(_ text: Substring, _ whole: String) throws(DNSConfigurationError) -> Int {
        guard let port = Int(text), (1...65_535).contains(port) else {
            throw DNSConfigurationError("upstream \"\(whole)\": the port must be a number from 1 to 65535")
        }
        return port
    }

    public var description: String {
        let address = host.contains(":") ? "[\(host)]" : host
        return transport == .https ? "https://\(address):\(port)\(path)" : "\(transport.rawValue)://\(address):\(port)"
    }
}

extension DNSUpstream: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A resolver setting that cannot be used, in words that say how to fix it.
public struct DNSConfigurationError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
