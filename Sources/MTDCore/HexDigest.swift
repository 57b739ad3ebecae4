/// A SHA-1 or SHA-256 fingerprint, parsed from hex in any case, with or without colons. Stored as
/// words so that lookups in large indicator tables neither allocate nor compare strings.
public struct HexDigest: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable { case sha1, sha256 }

    public let kind: Kind
    let w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    public init?(_ text: some StringProtocol) {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var nibbles = 0
        for byte in text.utf8 {
            let value: UInt64
            switch byte {
            case 48...57: value = UInt64(byte - 48)
            case 97...102: value = UInt64(byte - 87)
            case 65...70: value = UInt64(byte - 55)
            case 58, 32: continue // ':' and ' ' separators as printed by keytool and apksigner
            default: return nil
            }
            guard nibbles < 64 else { return nil }
            let shift = UInt64(60 - (nibbles % 16) * 4)
            switch nibbles / 16 {
            case 0: words.0 |= value << shift
            case 1: words.1 |= value << shift
            case 2: words.2 |= value << shift
            default: words.3 |= value << shift
            }
            nibbles += 1
        }
        switch nibbles {
        case 40: kind = .sha1
        case 64: kind = .sha256
        default: return nil
        }
        (w0, w1, w2, w3) = words
    }

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
}
