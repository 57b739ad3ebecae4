/// Line-oriented intelligence: plain host lists and uBlock-style URL rules. Parsed on bytes: the
/// shipped lists hold over 200,000 hosts and Character-level string handling dominated load time.
enum TextLists {
    typealias Bytes = UnsafeBufferPointer<UInt8>

    /// The host of every non-empty, non-comment line (comments start with `#` or `!`); hosts-file
    /// lines such as `0.0.0.0 example.com` yield their second field.
    static func hosts(in text: String, onLine body: (Bytes) -> Void) {
        var text = text
        text.withUTF8 { buffer in
            forEachLine(buffer) { line in
                guard let first = line.first, first != UInt8(ascii: "#"), first != UInt8(ascii: "!") else { return }
                let fields = splitFields(line)
                guard let firstField = fields.first else { return }
                if fields.count >= 2, equals(firstField, "0.0.0.0") || equals(firstField, "127.0.0.1") {
                    body(fields[1])
                } else {
                    body(firstField)
                }
            }
        }
    }

    enum Rule {
        case host(Bytes)
        case url(host: Bytes, pathPrefix: Bytes)
        case unsupported
    }

    /// `||host^`, `||host^$opts`, `||host/path^$opts`, or a bare host.
    static func ublockRules(in text: String, onRule body: (Rule) -> Void) {
        hosts(in: text) { line in
            let bar = UInt8(ascii: "|")
            guard line.count > 2, line[0] == bar, line[1] == bar else {
                if line.contains(UInt8(ascii: "/")) || line.contains(UInt8(ascii: "*")) || line.first == UInt8(ascii: "@") {
                    body(.unsupported)
                } else {
                    body(.host(line))
                }
                return
            }
            var end = line.firstIndex(of: UInt8(ascii: "$")) ?? line.count
            if end > 2, line[end - 1] == UInt8(ascii: "^") { end -= 1 }
            let rule = Bytes(rebasing: line[2..<end])
            guard !rule.isEmpty, !rule.contains(UInt8(ascii: "*")) else {
                body(.unsupported)
                return
            }
            if let slash = rule.firstIndex(of: UInt8(ascii: "/")) {
                body(.url(host: Bytes(rebasing: rule[..<slash]), pathPrefix: Bytes(rebasing: rule[slash...])))
            } else {
                body(.host(rule))
            }
        }
    }

    private static func forEachLine(_ buffer: Bytes, _ body: (Bytes) -> Void) {
        var start = 0
        while start < buffer.count {
            var end = start
            while end < buffer.count, buffer[end] != 10 { end += 1 }
            var first = start, last = end
            while first < last, isSpace(buffer[first]) { first += 1 }
            while last > first, isSpace(buffer[last - 1]) { last -= 1 }
            if first < last { body(Bytes(rebasing: buffer[first..<last])) }
            start = end + 1
        }
    }

    private static func splitFields(_ line: Bytes) -> [Bytes] {
        var fields: [Bytes] = []
        var index = 0
        while index < line.count {
            while index < line.count, isSpace(line[index]) { index += 1 }
            let start = index
            while index < line.count, !isSpace(line[index]) { index += 1 }
            if index > start { fields.append(Bytes(rebasing: line[start..<index])) }
            if fields.count == 2 { break }
        }
        return fields
    }

    @inline(__always)
    private static func isSpace(_ byte: UInt8) -> Bool { byte == 32 || byte == 9 || byte == 13 }

    private static func equals(_ bytes: Bytes, _ text: StaticString) -> Bool {
        bytes.count == text.utf8CodeUnitCount && bytes.elementsEqual(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
