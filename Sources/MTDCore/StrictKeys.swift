/// Configuration documents reject fields they do not know: a misspelt policy field silently ignored
/// would leave a fleet less protected than its admin believes.
public enum StrictKeys {
    public static func check(_ decoder: any Decoder, allowed: [String]) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        for key in container.allKeys where !allowed.contains(key.stringValue) {
            let hint = Suggestion.closest(to: key.stringValue, in: allowed).map { "; did you mean \"\($0)\"?" } ?? "; allowed: \(allowed.joined(separator: ", "))"
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "unknown field \"\(key.stringValue)\"\(hint)")
        }
    }
}

struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(_ string: String) {
        stringValue = string
        intValue = nil
    }

    init?(stringValue: String) { self.init(stringValue) }

    init?(intValue: Int) {
        stringValue = String(intValue)
        self.intValue = intValue
    }
}
