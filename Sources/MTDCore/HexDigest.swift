/// A SHA-1 or SHA-256 fingerprint, parsed from hex in any case, with or without colons. Stored as
/// words so that lookups in large indicator tables neither allocate nor compare strings.
public struct HexDigest: Hashable, Sendable, CustomStringConvertible, Codable {
    public enum Kind: Sendable, Hashable { case sha1, sha256 }

    public let kind: Kind
    let w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// Not generic on purpose: a generic initializer called from another module runs unspecialized,
    /// which made each parse cost microseconds on the check-in path.
    public init?(_ text: String) {
        var text = text
        guard let parsed = text.withUTF8({ Self.parse($0) }) else { return nil }
        self = parsed
    }

    public init?(_ text: Substring) {
        self.init(String(text))
    }

    private init(kind: Kind, words: (UInt64, UInt64, UInt64, UInt64)) {
        self.kind = kind
        (w0, w1, w2, w3) = words
    }

    /// Straight-line parsing without tables or closures: this runs for every signer and package
    /// hash of every check-in.
    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> HexDigest? {
        var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0
        var nibbles = 0
        var current: UInt64 = 0
        for byte in bytes {
            var value = byte &- 48
            if value > 9 {
                value = (byte | 0x20) &- 87
                if value < 10 || value > 15 {
                    if byte == 58 || byte == 32 { continue } // ':' and ' ' as printed by keytool and apksigner
                    return nil
                }
            }
            guard nibbles < 64 else { return nil }
            current = current << 4 | UInt64(value)
            nibbles += 1
            if nibbles & 15 == 0 {
                switch nibbles {
                case 16: w0 = current
                case 32: w1 = current
                case 48: w2 = current
                default: w3 = current
                }
                current = 0
            }
        }
        switch nibbles {
        case 40: return HexDigest(kind: .sha1, words: (w0, w1, current << 32, 0))
        case 64: return HexDigest(kind: .sha256, words: (w0, w1, w2, w3))
        default: return nil
        }
    }

    /// The first 64 bits: uniformly distributed for a cryptographic digest, so usable directly as a hash.
    public var leadingWord: UInt64 { w0 }

    /// Lowercase hex without separators.
    public var description: String {
        let digits = kind == .sha1 ? 40 : 64
        var result = ""
        result.reserveCapacity(digits)
        for index in 0..<digits {
            let word = [w0, w1, w2, w3][index / 16]
            let nibble = Int((word >> UInt64(60 - (index % 16) * 4)) & 0xF)
            result.append(Character(Unicode.Scalar(UInt8(nibble < 10 ? 48 + nibble : 87 + nibble))))
        }
        return result
    }

    public func hash(into hasher: inout Hasher) {
        // The bits of a cryptographic digest are already uniformly distributed.
        hasher.combine(w0)
    }

    /// Decoded from hex text (any case, colons allowed); encoded as lowercase hex. Parsing happens once,
    /// when the document is decoded, not on every lookup.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let digest = HexDigest(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected a hex SHA-1 (40 digits) or SHA-256 (64 digits), colons allowed; got \"\(text.prefix(80))\"")
        }
        self = digest
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
