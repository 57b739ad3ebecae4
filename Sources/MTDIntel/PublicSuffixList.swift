/// The Public Suffix List (publicsuffix.org, MPL-2.0): which part of a host is the registrable
/// domain (eTLD+1). Both ICANN and private rules apply, as browsers do, so `x.weebly.com` and
/// `y.weebly.com` are different sites.
public struct PublicSuffixList: Sendable {
    private var rules: Set<String> = []
    private var wildcards: Set<String> = []
    private var exceptions: Set<String> = []
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
    }

    /// Whether `label` is a top-level domain the list knows (directly or by wildcard).
    public func knowsTopLevelDomain(label: String) -> Bool {
        if rules.contains(label) || wildcards.contains(label) { return true }
        guard let ascii = Punycode.asciiLabel(Substring(label)), ascii != label else { return false }
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
