/// A dotted OS version such as `17.4.1` or `14`, compared numerically with missing parts as zero.
public struct OSVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public let patch: Int

    public init(major: Int, minor: Int = 0, patch: Int = 0) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Accepts `17`, `17.4`, `17.4.1`; anything after a space or a non-digit in a component ends it
    /// (`17.4 (21E219)`, `14 beta`). Nil when there is no leading number.
    public init?(_ text: String) {
        var parts = (0, 0, 0)
        var index = 0
        var sawDigit = false
        for byte in text.utf8 {
            if byte >= 48, byte <= 57 {
                let current = index == 0 ? parts.0 : (index == 1 ? parts.1 : parts.2)
                guard current < 1_000_000 else { return nil }
                let value = current * 10 + Int(byte - 48)
                switch index {
                case 0: parts.0 = value
                case 1: parts.1 = value
                default: parts.2 = value
                }
                sawDigit = true
            } else if byte == UInt8(ascii: "."), sawDigit, index < 2 {
                index += 1
            } else {
                break
            }
        }
        guard sawDigit else { return nil }
        self.init(major: parts.0, minor: parts.1, patch: parts.2)
    }

    public static func < (lhs: OSVersion, rhs: OSVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }

    public var description: String {
        patch == 0 ? (minor == 0 ? "\(major)" : "\(major).\(minor)") : "\(major).\(minor).\(patch)"
    }
}
