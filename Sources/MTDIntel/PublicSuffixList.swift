/// The Public Suffix List (publicsuffix.org, MPL-2.0): which part of a host is the registrable
/// domain (eTLD+1). Both ICANN and private rules apply, as browsers do, so `x.weebly.com` and
/// `y.weebly.com` are different sites.
public struct PublicSuffixList: Sendable {
    private var rules: Set<String> = []
    private var wildcards: Set<String> = []
    private var exceptions: Set<String> = []
    /// The last label of every rule, for allocation-free "is this a real TLD" checks.
    private var topLevelLabels = HostKeyTable(builder: HostKeyTable.Builder())
    public private(set) var ruleCount = 0

    /// Parses the `.dat` format: one rule a line, `//` comments, `*.` wildcards and `!` exceptions.
    public init(listText: String) {
        for rawLine in listText.split(whereSeparator: \.isNewline) {
            let line = rawLine.prefix { !$0.isWhitespace }
            if line.isEmpty || line.hasPrefix("//") { continue }
            ruleCount += 1
            if line.hasPrefix("!") {
                if let ascii = Self.asciiHost(line.dropFirst()) { exceptions.insert(ascii) }
            } else if line.hasPrefix("*.") {
                if let ascii = Self.asciiHost(line.dropFirst(2)) { wildcards.insert(ascii) }
            } else if let ascii = Self.asciiHost(line) {
                rules.insert(ascii)
            }
        }
        var labels = HostKeyTable.Builder()
        for rule in rules.union(wildcards).union(exceptions) {
            if let last = rule.split(separator: ".").last { labels.insert(String(last), IndicatorRef(source: 0, label: 0)) }
        }
        topLevelLabels = HostKeyTable(builder: labels)
    }

    /// Whether the last label of a host is a top-level domain the list knows.
    public func knowsTopLevelDomain(ofHost host: UnsafeBufferPointer<UInt8>) -> Bool {
        var end = host.count
        while end > 0, host[end - 1] == UInt8(ascii: ".") { end -= 1 }
        var start = end
        while start > 0, host[start - 1] != UInt8(ascii: ".") { start -= 1 }
        let label = UnsafeBufferPointer(rebasing: host[start..<end])
        if label.allSatisfy({ $0 < 128 }) {
            var found = false
            topLevelLabels.forEachSuffixMatch(bytes: label, exactOnly: true) { _ in
                found = true
                return false
            }
            return found
        }
        guard let ascii = Punycode.asciiLabel(Substring(String(decoding: label, as: UTF8.self))) else { return false }
        return rules.contains(ascii) || wildcards.contains(ascii)
    }

    /// The registrable domain of `host`, in the same form (Unicode or `xn--`) as the input, or nil when
    /// the host is itself a public suffix, is empty, or starts with a dot.
    public func registrableDomain(of host: String) -> String? {
        guard !host.isEmpty, !host.hasPrefix("."), !host.hasSuffix(".") || host.count > 1 else { return nil }
        let trimmed = host.hasSuffix(".") ? String(host.dropLast()) : host
        let originalLabels = trimmed.split(separator: ".", omittingEmptySubsequences: false)
        guard !originalLabels.contains(where: \.isEmpty) else { return nil }
        var asciiLabels: [String] = []
        asciiLabels.reserveCapacity(originalLabels.count)
        for label in originalLabels {
            guard let ascii = Punycode.asciiLabel(label) else { return nil }
            asciiLabels.append(ascii)
        }
        let suffixCount = publicSuffixLabelCount(asciiLabels)
        guard originalLabels.count > suffixCount else { return nil }
        return originalLabels.suffix(suffixCount + 1).joined(separator: ".").lowercased()
    }

    /// How many trailing labels form the public suffix; an unlisted TLD counts as a suffix of one label.
    func publicSuffixLabelCount(_ labels: [String]) -> Int {
        var best = 1
        for start in 0..<labels.count {
            let candidate = labels[start...].joined(separator: ".")
            let length = labels.count - start
            if exceptions.contains(candidate) { return length - 1 }
            if rules.contains(candidate) { best = max(best, length) }
            if start + 1 < labels.count, wildcards.contains(labels[(start + 1)...].joined(separator: ".")) {
                best = max(best, length)
            }
        }
        return min(best, labels.count)
    }

    private static func asciiHost(_ text: Substring) -> String? {
        var labels: [String] = []
        for label in text.split(separator: ".") {
            guard let ascii = Punycode.asciiLabel(label) else { return nil }
            labels.append(ascii)
        }
        return labels.joined(separator: ".")
    }
}
