import Foundation

/// Where the server may connect when an admin gives it an address (UEM URL, OAuth token URL, and
/// later webhooks, SMTP, feeds and DNS upstreams). Pure: the caller resolves the host and passes the
/// addresses; this decides.
///
/// Without rules, everything is allowed except the networks no admin-supplied address should reach
/// (server-side request forgery): link-local addresses, where cloud metadata services answer, and the
/// metadata host names. With an allow list, every resolved address (or the host name) must be on it.
/// The deny list, including the defaults, always wins.
public struct EgressPolicy: Sendable, Equatable {
    public var allow: [EgressRule]
    public var deny: [EgressRule]

    public init(allow: [EgressRule] = [], deny: [EgressRule] = []) {
        self.allow = allow
        self.deny = deny
    }

    /// Refused whatever the configuration says.
    public static let alwaysDenied: [EgressRule] = [
        // IPv4 link-local, which holds 169.254.169.254 (AWS, GCP, Azure, OpenStack metadata).
        .network(IPNetwork(IPAddress(v4: 169, 254, 0, 0), prefixLength: 16)),
        // IPv6 link-local.
        .network(IPNetwork(IPAddress(v6: [0xfe, 0x80] + Array(repeating: 0, count: 14)), prefixLength: 10)),
        // AWS metadata over IPv6 (fd00:ec2::254).
        .network(IPNetwork(IPAddress(v6: [0xfd, 0x00, 0x0e, 0xc2] + Array(repeating: 0, count: 10) + [0x02, 0x54]), prefixLength: 128)),
        // Alibaba Cloud metadata.
        .network(IPNetwork(IPAddress(v4: 100, 100, 100, 200), prefixLength: 32)),
        .host("metadata.google.internal"),
        .host("metadata"),
    ]

    /// Only loopback: what tests and fuzzing run with, so a fuzzed URL never reaches another machine.
    public static let loopbackOnly = EgressPolicy(allow: [
        .network(IPNetwork(IPAddress(v4: 127, 0, 0, 0), prefixLength: 8)),
        .network(IPNetwork(IPAddress(v6: Array(repeating: 0, count: 15) + [1]), prefixLength: 128)),
        .host("localhost"),
    ])

    public enum Decision: Sendable, Equatable {
        case allowed
        case refused(String)
    }

    /// The decision for `host` (as written in the URL, lowercased by the caller or not) resolved to
    /// `addresses` (for an IP literal, the literal itself).
    public func decide(host: String, addresses: [IPAddress]) -> Decision {
        let name = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]."))
        guard !addresses.isEmpty else { return .refused("\(host) resolved to no address") }
        for rule in Self.alwaysDenied + deny {
            if rule.matches(host: name) { return .refused("\(host) is on the egress deny list (\(rule))") }
            if let address = addresses.first(where: rule.matches(address:)) {
                return .refused("\(host) resolves to \(address), which is on the egress deny list (\(rule))")
            }
        }
        guard !allow.isEmpty else { return .allowed }
        if allow.contains(where: { $0.matches(host: name) }) { return .allowed }
        if let outside = addresses.first(where: { address in !allow.contains(where: { $0.matches(address: address) }) }) {
            return .refused("\(host) resolves to \(outside), which is not on the egress allow list")
        }
        return .allowed
    }

    /// Rules from text, e.g. `10.0.0.0/8, ::1, uem.example.com, *.awmdm.com`; the offending entry when
    /// one is neither a network nor a host name.
    public static func rules(_ text: String) -> Result<[EgressRule], EgressRuleError> {
        var rules: [EgressRule] = []
        for entry in text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" }).map(String.init) where !entry.isEmpty {
            guard let rule = EgressRule.parse(entry) else { return .failure(EgressRuleError(entry: entry)) }
            rules.append(rule)
        }
        return .success(rules)
    }
}

public struct EgressRuleError: Error, Sendable, Equatable, CustomStringConvertible {
    public var entry: String

    public init(entry: String) {
        self.entry = entry
    }
    public var description: String {
        "\"\(entry)\" is neither a network (10.0.0.0/8, 2001:db8::/32, 192.0.2.7) nor a host name (uem.example.com, *.awmdm.com)"
    }
}

/// A network or a host name (`*.example.com` matches every name below example.com).
public enum EgressRule: Sendable, Equatable, CustomStringConvertible {
    case network(IPNetwork)
    case host(String)

    public static func parse(_ text: String) -> EgressRule? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let network = IPNetwork.parse(trimmed) { return .network(network) }
        let name = trimmed.hasPrefix("*.") ? String(trimmed.dropFirst(2)) : trimmed
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789-.")
        guard !name.isEmpty, name.unicodeScalars.allSatisfy(allowed.contains), !name.hasPrefix("."), !name.hasSuffix(".") else { return nil }
        return .host(trimmed)
    }

    func matches(host: String) -> Bool {
        guard case .host(let pattern) = self else { return false }
        if pattern.hasPrefix("*.") { return host.hasSuffix(String(pattern.dropFirst(1))) }
        return host == pattern
    }

    func matches(address: IPAddress) -> Bool {
        guard case .network(let network) = self else { return false }
        return network.contains(address)
    }

    public var description: String {
        switch self {
        case .network(let network): network.description
        case .host(let host): host
        }
    }
}

/// An IPv4 or IPv6 address as its bytes (4 or 16).
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    init(v4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        bytes = [a, b, c, d]
    }

    /// For constants written in code; anything but 16 bytes is padded or cut to 16.
    init(v6 value: [UInt8]) {
        bytes = Array((value + Array(repeating: 0, count: 16)).prefix(16))
    }

    /// Parses dotted IPv4 or IPv6 text (with `::` and an embedded IPv4 tail); IPv4-mapped IPv6
    /// addresses (`::ffff:a.b.c.d`) become their IPv4 address, so rules on IPv4 networks hold for them.
    public static func parse(_ text: String) -> IPAddress? {
        let value = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        if let v4 = parseIPv4(value) { return IPAddress(bytes: v4) }
        guard let v6 = parseIPv6(value), v6.count == 16 else { return nil }
        if v6[0..<10].allSatisfy({ $0 == 0 }), v6[10] == 0xff, v6[11] == 0xff { return IPAddress(bytes: Array(v6[12..<16])) }
        return IPAddress(bytes: v6)
    }

    static func parseIPv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), part.allSatisfy(\.isNumber), let value = UInt8(part) else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    static func parseIPv6(_ text: String) -> [UInt8]? {
        guard text.contains(":"), text.count <= 45 else { return nil }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt8]? {
            guard !part.isEmpty else { return [] }
            var bytes: [UInt8] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, piece.contains("."), let v4 = parseIPv4(String(piece)) {
                    bytes += v4
                    continue
                }
                guard (1...4).contains(piece.count), let value = UInt16(piece, radix: 16) else { return nil }
                bytes += [UInt8(value >> 8), UInt8(value & 0xff)]
            }
            return bytes
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 16 ? head : nil }
        guard let tail = groups(halves[1]), head.count + tail.count <= 14 else { return nil }
        return head + Array(repeating: 0, count: 16 - head.count - tail.count) + tail
    }

    public var description: String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: bytes.count - 1, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":")
    }
}

/// An address and a prefix length (`10.0.0.0/8`; a bare address is a /32 or /128).
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    init(_ address: IPAddress, prefixLength: Int) {
        self.address = address
        self.prefixLength = min(max(prefixLength, 0), address.bytes.count * 8)
    }

    public static func parse(_ text: String) -> IPNetwork? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress.parse(String(parts[0])) else { return nil }
        let bits = address.bytes.count * 8
        var length = bits
        if parts.count == 2 {
            guard parts[1].count <= 3, parts[1].allSatisfy(\.isNumber), let value = Int(parts[1]), (0...bits).contains(value) else { return nil }
            length = value
        }
        return IPNetwork(address, prefixLength: length)
    }

    public func contains(_ other: IPAddress) -> Bool {
        guard other.bytes.count == address.bytes.count else { return false }
        var remaining = prefixLength
        for index in 0..<address.bytes.count where remaining > 0 {
            let take = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xff << (8 - take))
            if address.bytes[index] & mask != other.bytes[index] & mask { return false }
            remaining -= take
        }
        return true
    }

    public var description: String { "\(address)/\(prefixLength)" }
}
