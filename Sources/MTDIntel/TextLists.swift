/// Line-oriented intelligence: plain host lists and uBlock-style URL rules.
enum TextLists {
    /// Non-empty, non-comment lines (comments start with `#` or `!`), whitespace-trimmed; hosts-file
    /// lines such as `0.0.0.0 example.com` yield the host.
    static func hosts(in text: String, onLine body: (Substring) -> Void) {
        for rawBytes in text.utf8.split(separator: UInt8(ascii: "\n")) {
            let line = Substring(rawBytes).trimmingPrefix(while: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard let first = line.first, first != "#", first != "!" else { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard let firstField = fields.first else { continue }
            if fields.count >= 2, firstField == "0.0.0.0" || firstField == "127.0.0.1" {
                body(fields[1])
            } else {
                body(firstField)
            }
        }
    }

    enum Rule {
        case host(Substring)
        case url(host: Substring, pathPrefix: Substring)
        case unsupported(Substring)
    }

    /// `||host^`, `||host^$opts`, `||host/path^$opts`, or a bare host.
    static func ublockRules(in text: String, onRule body: (Rule) -> Void) {
        hosts(in: text) { line in
            guard line.hasPrefix("||") else {
                if line.contains("/") || line.contains("*") || line.hasPrefix("@@") {
                    body(.unsupported(line))
                } else {
                    body(.host(line))
                }
                return
            }
            var rule = line.dropFirst(2)
            if let options = rule.firstIndex(of: "$") { rule = rule[..<options] }
            if rule.hasSuffix("^") { rule = rule.dropLast() }
            guard !rule.contains("*") else {
                body(.unsupported(line))
                return
            }
            if let slash = rule.firstIndex(of: "/") {
                body(.url(host: rule[..<slash], pathPrefix: rule[slash...]))
            } else {
                body(.host(rule))
            }
        }
    }
}
