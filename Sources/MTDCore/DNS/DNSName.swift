/// A domain name as its labels in wire form (RFC 1035 §3.1), without compression. Labels are raw
/// bytes: a label may hold a dot or any byte, so the name is never reduced to a String on the way
/// through; `host` gives the lowercase dotted form the policy matches on.
public struct DNSName: Sendable, Hashable, CustomStringConvertible {
    /// Uncompressed wire form: length-prefixed labels ending with the root's zero byte.
    public private(set) var wire: [UInt8]

    public static let maxWireLength = 255
    public static let maxLabelLength = 63
    public static let root = DNSName(trustedWire: [0])

    init(trustedWire: [UInt8]) {
        wire = trustedWire
    }

    /// A name from uncompressed wire form; nil unless it is labels of 1–63 bytes ending with the
    /// root, at most 255 bytes in all.
    public init?(wire: [UInt8]) {
        guard wire.count <= Self.maxWireLength else { return nil }
        var index = 0
        while index < wire.count, wire[index] != 0 {
            let length = Int(wire[index])
            guard length <= Self.maxLabelLength else { return nil }
            index += 1 + length
        }
        guard index == wire.count - 1 else { return nil }
        self.wire = wire
    }

    /// A name from dotted text such as `www.example.com` (a final dot is allowed). Nil when a label
    /// is empty or longer than 63 bytes, or the name longer than 255 bytes in wire form.
    public init?(_ text: String) {
        var wire: [UInt8] = []
        let trimmed = text.hasSuffix(".") ? Substring(text.dropLast()) : Substring(text)
        if !trimmed.isEmpty {
            for label in trimmed.split(separator: ".", omittingEmptySubsequences: false) {
                let bytes = Array(label.utf8)
                guard !bytes.isEmpty, bytes.count <= Self.maxLabelLength else { return nil }
                wire.append(UInt8(bytes.count))
                wire.append(contentsOf: bytes)
            }
        }
        wire.append(0)
        guard wire.count <= Self.maxWireLength else { return nil }
        self.wire = wire
    }

    /// The labels, leftmost first.
    public var labels: [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var index = 0
        while index < wire.count, wire[index] != 0 {
            let length = Int(wire[index])
            result.append(wire[(index + 1)..<(index + 1 + length)])
            index += 1 + length
        }
        return result
    }

    public var labelCount: Int { labels.count }

    /// Lowercase dotted form without the final dot (`""` for the root). Bytes that cannot appear in a
    /// host name are kept as `\DDD`, so such a name never equals an indicator by accident.
    public var host: String {
        var text: [UInt8] = []
        text.reserveCapacity(wire.count)
        var index = 0
        while index < wire.count, wire[index] != 0 {
            let length = Int(wire[index])
            if !text.isEmpty { text.append(UInt8(ascii: ".")) }
            for byte in wire[(index + 1)..<(index + 1 + length)] {
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): text.append(byte | 0x20)
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"): text.append(byte)
                default:
                    text.append(UInt8(ascii: "\\"))
                    text.append(contentsOf: Self.threeDigits(byte).utf8)
                }
            }
            index += 1 + length
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The same name with ASCII letters lowercased: names compare case-insensitively (RFC 4343).
    public var lowercased: DNSName {
        var copy = self
        var index = 0
        while index < copy.wire.count, copy.wire[index] != 0 {
            let length = Int(copy.wire[index])
            for position in (index + 1)..<(index + 1 + length) where (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(copy.wire[position]) {
                copy.wire[position] |= 0x20
            }
            index += 1 + length
        }
        return copy
    }

    public var description: String { host.isEmpty ? "." : host + "." }
}

extension DNSName {
    /// Three decimal digits, as in a `\DDD` escape. (Not a `String` initializer: an unlabelled
    /// `String.init` taking a byte would be picked by `bytes.map(String.init)` elsewhere.)
    static func threeDigits(_ byte: UInt8) -> String {
        let value = Int(byte)
        return String(value / 100) + String(value / 10 % 10) + String(value % 10)
    }
}
