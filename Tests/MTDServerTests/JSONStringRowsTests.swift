import Foundation
import MTDStore
import Testing

/// The inventory aggregate reader must agree with a real JSON encoder on every string and refuse,
/// never trap on, anything malformed.
struct JSONStringRowsTests {
    @Test func readsWhatAJSONEncoderWrites() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{01}", "\u{1F}", "é", "中", "😀", "\u{2028}", ",", "[", "]"]
        for _ in 0..<300 {
            let rows: [[String?]] = (0..<Int.random(in: 0...6, using: &generator)).map { _ in
                (0..<Int.random(in: 0...8, using: &generator)).map { _ in
                    Bool.random(using: &generator) ? nil : String((0..<Int.random(in: 0...12, using: &generator)).map { _ in
                        alphabet.randomElement(using: &generator) ?? "a"
                    })
                }
            }
            let text = String(decoding: try JSONEncoder().encode(rows), as: UTF8.self)
            #expect(try JSONStringRows.parse(text) == rows, "\(text)")
        }
    }

    @Test func readsWhatTheDatabasesWrite() throws {
        // PostgreSQL's json_agg separates rows with a comma, a newline and a space; SQLite writes none.
        #expect(try JSONStringRows.parse("[[\"com.a\", null, \"1.0\"], \n [\"com.b\", \"B\\u00e9\\ud83d\\ude00\", null]]")
            == [["com.a", nil, "1.0"], ["com.b", "Bé😀", nil]])
        #expect(try JSONStringRows.parse("[]") == [])
        #expect(try JSONStringRows.parse(" [ [ ] ] ") == [[]])
    }

    @Test func refusesMalformedTextWithoutTrapping() throws {
        let bad = ["", "[", "[[", "[[\"a\"]", "[[\"a\",]]", "[[1]]", "[[\"a\"]]x", "[[nul]]", "[[\"\\u12\"]]", "[[\"\\ud800\"]]",
                   "[[\"\\udc00\"]]", "[[\"\\q\"]]", "[[\"a\"", "{}", "[[\"a\"],]", "[[\"\\ud83d\\u0041\"]]"]
        for text in bad {
            #expect(throws: JSONStringRows.Malformed.self, "\(text)") { try JSONStringRows.parse(text) }
        }
        // Every prefix of a valid text is refused or read, never a crash.
        let valid = "[[\"com.a\", null, \"x\\\"y\\\\z\\u00e9\"], [\"b\"]]"
        for end in valid.indices {
            _ = try? JSONStringRows.parse(String(valid[..<end]))
        }
    }
}
