import Crypto
import Foundation

/// Random credentials and their stored hashes.
package enum Secrets {
    /// 32 random bytes, base64url without padding.
    package static func token(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return prefix + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// A resolver token: 128 random bits in lowercase base32 (RFC 4648 alphabet), so that it is a
    /// valid DNS label as well as a URL path segment (DoT carries it in the server name, and
    /// server names are compared without case).
    package static func resolverToken() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var generator = SystemRandomNumberGenerator()
        var bits = (UInt64.random(in: .min ... .max, using: &generator), UInt64.random(in: .min ... .max, using: &generator))
        var characters: [Character] = []
        // 26 characters × 5 bits = 130 ≥ 128; the last character carries 3 bits.
        for _ in 0..<26 {
            characters.append(alphabet[Int(bits.1 & 31)])
            bits.1 = (bits.1 >> 5) | ((bits.0 & 31) << 59)
            bits.0 >>= 5
        }
        return "r" + String(characters)
    }

    /// Enrollment codes are typed by people: 12 characters from an alphabet without look-alikes.
    package static func enrollmentCode() -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<12).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
        return String(characters[0..<4]) + "-" + String(characters[4..<8]) + "-" + String(characters[8..<12])
    }

    /// Lowercase hex SHA-256: tokens are long random strings, so a fast hash is the right tool.
    package static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// What the audit log and SIEMs see of an enrollment code: enough to tell codes apart, not to use one.
    package static func hint(_ code: String) -> String {
        String(code.prefix(4)) + "-…"
    }

    package static func password() -> String {
        String(token(prefix: "").prefix(20))
    }
}
