/// Record types the resolver names; every other type passes through by number (RFC 3597).
public struct DNSRecordType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = Self(rawValue: 1), ns = Self(rawValue: 2), cname = Self(rawValue: 5), soa = Self(rawValue: 6)
    public static let ptr = Self(rawValue: 12), mx = Self(rawValue: 15), txt = Self(rawValue: 16), aaaa = Self(rawValue: 28)
    public static let srv = Self(rawValue: 33), naptr = Self(rawValue: 35), dname = Self(rawValue: 39), opt = Self(rawValue: 41)
    public static let ds = Self(rawValue: 43), rrsig = Self(rawValue: 46), dnskey = Self(rawValue: 48), svcb = Self(rawValue: 64)
    public static let https = Self(rawValue: 65), any = Self(rawValue: 255), caa = Self(rawValue: 257)

    static let names: [UInt16: String] = [
        1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV", 35: "NAPTR", 39: "DNAME",
        41: "OPT", 43: "DS", 46: "RRSIG", 48: "DNSKEY", 64: "SVCB", 65: "HTTPS", 255: "ANY", 257: "CAA",
    ]

    /// `A`, `AAAA`, … or `TYPE123` (RFC 3597's form for any other).
    public init?(name: String) {
        let upper = name.uppercased()
        if let known = Self.names.first(where: { $0.value == upper }) {
            rawValue = known.key
        } else if upper.hasPrefix("TYPE"), let number = UInt16(upper.dropFirst(4)) {
            rawValue = number
        } else {
            return nil
        }
    }

    public var description: String { Self.names[rawValue] ?? "TYPE\(rawValue)" }
}

/// Response codes (RFC 1035 §4.1.1, RFC 6891 for the extended ones).
public struct DNSResponseCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let noError = Self(rawValue: 0), formatError = Self(rawValue: 1), serverFailure = Self(rawValue: 2)
    public static let nameError = Self(rawValue: 3), notImplemented = Self(rawValue: 4), refused = Self(rawValue: 5)
    public static let badVersion = Self(rawValue: 16)

    public var description: String {
        [0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED", 16: "BADVERS"][rawValue] ?? "RCODE\(rawValue)"
    }
}

/// The header's flag bits (RFC 1035 §4.1.1, RFC 4035 for AD and CD), kept as the raw 16 bits so
/// bits a later RFC defines pass through untouched.
public struct DNSFlags: Sendable, Hashable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public var isResponse: Bool { get { bit(15) } set { set(15, newValue) } }
    public var opcode: UInt8 { UInt8((rawValue >> 11) & 0xF) }
    public var authoritative: Bool { get { bit(10) } set { set(10, newValue) } }
    public var truncated: Bool { get { bit(9) } set { set(9, newValue) } }
    public var recursionDesired: Bool { get { bit(8) } set { set(8, newValue) } }
    public var recursionAvailable: Bool { get { bit(7) } set { set(7, newValue) } }
    public var authenticData: Bool { get { bit(5) } set { set(5, newValue) } }
    public var checkingDisabled: Bool { get { bit(4) } set { set(4, newValue) } }
    /// The low four bits of the response code; EDNS carries the upper eight.
    public var rcodeLow: UInt8 {
        get { UInt8(rawValue & 0xF) }
        set { rawValue = (rawValue & ~0xF) | UInt16(newValue & 0xF) }
    }

    private func bit(_ n: UInt16) -> Bool { rawValue & (1 << n) != 0 }
    private mutating func set(_ n: UInt16, _ on: Bool) { if on { rawValue |= 1 << n } else { rawValue &= ~(1 << n) } }
}

public struct DNSQuestion: Sendable, Hashable {
    public var name: DNSName
    public var type: DNSRecordType
    public var recordClass: UInt16

    public init(name: DNSName, type: DNSRecordType, recordClass: UInt16 = 1) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
    }
}

/// One resource record. `data` is the RDATA with any names in it expanded (no compression
/// pointers), so it stays valid wherever the record is written again.
public struct DNSRecord: Sendable, Hashable {
    public var name: DNSName
    public var type: DNSRecordType
    public var recordClass: UInt16
    public var ttl: UInt32
    public var data: [UInt8]

    public init(name: DNSName, type: DNSRecordType, recordClass: UInt16 = 1, ttl: UInt32, data: [UInt8]) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
        self.ttl = ttl
        self.data = data
    }
}

/// EDNS(0) (RFC 6891), lifted out of the OPT pseudo-record.
public struct EDNS: Sendable, Hashable {
    public struct Option: Sendable, Hashable {
        public var code: UInt16
        public var data: [UInt8]
        public init(code: UInt16, data: [UInt8]) {
            self.code = code
            self.data = data
        }
    }

    public static let extendedErrorCode: UInt16 = 15

    public var udpPayloadSize: UInt16
    public var extendedRCodeHigh: UInt8
    public var version: UInt8
    /// DO: the client wants DNSSEC records (RFC 3225). Passed through; OpenMTD does not validate.
    public var dnssecOK: Bool
    /// The other 15 flag bits, kept for pass-through.
    public var otherFlags: UInt16
    public var options: [Option]

    public init(udpPayloadSize: UInt16 = 1_232, extendedRCodeHigh: UInt8 = 0, version: UInt8 = 0, dnssecOK: Bool = false,
                otherFlags: UInt16 = 0, options: [Option] = []) {
        self.udpPayloadSize = udpPayloadSize
        self.extendedRCodeHigh = extendedRCodeHigh
        self.version = version
        self.dnssecOK = dnssecOK
        self.otherFlags = otherFlags
        self.options = options
    }

    /// An Extended DNS Error (RFC 8914): an info code and UTF-8 text for people.
    public static func extendedError(_ infoCode: UInt16, _ text: String) -> Option {
        Option(code: extendedErrorCode, data: [UInt8(infoCode >> 8), UInt8(infoCode & 0xFF)] + Array(text.utf8.prefix(400)))
    }

    /// The first Extended DNS Error option, if any.
    public var extendedError: (infoCode: UInt16, text: String)? {
        guard let option = options.first(where: { $0.code == Self.extendedErrorCode }), option.data.count >= 2 else { return nil }
        return (UInt16(option.data[0]) << 8 | UInt16(option.data[1]), String(decoding: option.data.dropFirst(2), as: UTF8.self))
    }
}

/// RFC 8914 info codes the resolver sends.
public enum ExtendedDNSError {
    public static let other: UInt16 = 0
    public static let blocked: UInt16 = 15
    public static let filtered: UInt16 = 17
    public static let prohibited: UInt16 = 18
    public static let networkError: UInt16 = 23
    public static let noReachableAuthority: UInt16 = 22
}
