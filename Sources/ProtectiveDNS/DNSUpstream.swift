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
    /// The name a `tls://` upstream's certificate must carry (and the SNI sent), when it is dialled
    /// by address: `tls://9.9.9.9:853#dns.quad9.net`. Without it the host is checked (an address
    /// against the certificate's IP entries).
    public var serverName: String?

    /// Parses `udp://HOST:PORT`, `tls://HOST:PORT[#NAME]` or `https://HOST[:PORT]/PATH`; IPv6 hosts in brackets.
    public init(parsing whole: String) throws(DNSConfigurationError) {
        var text = whole
        var serverName: String?
        if let hash = whole.firstIndex(of: "#") {
            let name = String(whole[whole.index(after: hash)...])
            text = String(whole[..<hash])
            guard !name.isEmpty, name.utf8.count <= 253, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }), name.first != "." else {
                throw DNSConfigurationError("upstream \"\(whole)\": after # comes the host name its certificate carries, e.g. tls://9.9.9.9:853#dns.quad9.net")
            }
            serverName = name
        }
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
        if serverName != nil, transport != .tls {
            throw DNSConfigurationError("upstream \"\(whole)\": #NAME is for tls:// upstreams; an https:// upstream is checked against its URL's host")
        }
        guard transport != .https || path.hasPrefix("/"), path.utf8.count <= 1_024 else {
            throw DNSConfigurationError("upstream \"\(whole)\": the DoH path must start with / and be at most 1,024 characters")
        }
        self.serverName = serverName
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
        switch transport {
        case .https: return "https://\(address):\(port)\(path)"
        case .tls: return "tls://\(address):\(port)\(serverName.map { "#\($0)" } ?? "")"
        case .udp: return "udp://\(address):\(port)"
        }
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
