import Foundation

/// Reads a JSON array of arrays of strings and nulls (`[["a", null], ["b", "c"]]`), the shape of
/// the inventory aggregate the database builds for a check-in. Foundation's JSONDecoder spent
/// 14 % of a threat-opening check-in on PostgreSQL decoding fifty such rows through its generic
/// containers; this reads them in one pass over the UTF-8 bytes. Anything else (numbers, objects,
/// truncated text, bad escapes) is refused with an error, never a trap.
public enum JSONStringRows {
    public struct Malformed: Error, CustomStringConvertible {
        public var offset: Int
        public var description: String { "the stored inventory text is not an array of string arrays (at byte \(offset))" }
    }

    public static func parse(_ text: String) throws -> [[String?]] {
        var text = text
        return try text.withUTF8 { bytes in
            var reader = Reader(bytes: bytes)
            return try reader.rows()
        }
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        mutating func rows() throws -> [[String?]] {
            var rows: [[String?]] = []
            try expect(UInt8(ascii: "["))
            if try peekSkippingSpace() == UInt8(ascii: "]") {
                index += 1
            } else {
                while true {
                    rows.append(try row())
                    if try separatorEndsList() { break }
                }
            }
            skipSpace()
            guard index == bytes.count else { throw Malformed(offset: index) }
            return rows
        }

        mutating func row() throws -> [String?] {
            var fields: [String?] = []
            try expect(UInt8(ascii: "["))
            if try peekSkippingSpace() == UInt8(ascii: "]") {
                index += 1
                return fields
            }
            while true {
                fields.append(try field())
                if try separatorEndsList() { return fields }
            }
        }

        /// After an element: true at `]` (consumed), false at `,` (consumed).
        mutating func separatorEndsList() throws -> Bool {
            switch try peekSkippingSpace() {
            case UInt8(ascii: ","): index += 1; return false
            case UInt8(ascii: "]"): index += 1; return true
            default: throw Malformed(offset: index)
            }
        }

        mutating func field() throws -> String? {
            switch try peekSkippingSpace() {
            case UInt8(ascii: "n"):
                guard bytes.count - index >= 4, bytes[index + 1] == UInt8(ascii: "u"), bytes[index + 2] == UInt8(ascii: "l"),
                      bytes[index + 3] == UInt8(ascii: "l")
                else { throw Malformed(offset: index) }
                index += 4
                return nil
            case UInt8(ascii: "\""):
                index += 1
                return try string()
            default:
                throw Malformed(offset: index)
            }
        }

        /// The rest of a string after its opening quote.
        mutating func string() throws -> String {
            let start = index
            // The common case, no escapes: one copy of the bytes.
            while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") { index += 1 }
            guard index < bytes.count else { throw Malformed(offset: index) }
            var scalars = Array(bytes[start..<index])
            while true {
                guard index < bytes.count else { throw Malformed(offset: index) }
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "\"") { break }
                guard byte == UInt8(ascii: "\\") else {
                    scalars.append(byte)
                    continue
                }
                guard index < bytes.count else { throw Malformed(offset: index) }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escape)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"):
                    var value = try hex4()
                    if (0xD800...0xDBFF).contains(value) {
                        // A high surrogate must be followed by an escaped low one.
                        guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw Malformed(offset: index)
                        }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw Malformed(offset: index) }
                        value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(value) else { throw Malformed(offset: index) }
                    scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    throw Malformed(offset: index)
                }
            }
            return String(decoding: scalars, as: UTF8.self)
        }

        mutating func hex4() throws -> UInt32 {
            guard bytes.count - index >= 4 else { throw Malformed(offset: index) }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt32
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
                default: throw Malformed(offset: index)
                }
                value = value << 4 | digit
                index += 1
            }
            return value
        }

        mutating func expect(_ byte: UInt8) throws {
            guard try peekSkippingSpace() == byte else { throw Malformed(offset: index) }
            index += 1
        }

        mutating func peekSkippingSpace() throws -> UInt8 {
            skipSpace()
            guard index < bytes.count else { throw Malformed(offset: index) }
            return bytes[index]
        }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }
    }
}
