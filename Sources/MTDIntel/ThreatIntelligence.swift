import MTDCore

/// All loaded threat intelligence, immutable and safe to share between concurrent evaluations.
/// Lookups are designed for the check-in path: no allocation unless something matches.
public final class ThreatIntelligence: Sendable {
    public let sources: [IndicatorSource]
    public let sourceStats: [SourceStats]
    let labels: [String]
    let domains: HostKeyTable
    let appIds: HostKeyTable
    let signers: DigestTable
    let packageHashes: DigestTable
    let urlRules: [String: [URLRule]]
    let forensic: ForensicIndicators
    public let os: OSCatalog
    public let publicSuffixList: PublicSuffixList
    public let cloudServices: CloudServiceCatalog

    init(
        sources: [IndicatorSource], sourceStats: [SourceStats], labels: [String], domains: HostKeyTable,
        appIds: HostKeyTable, signers: DigestTable, packageHashes: DigestTable,
        urlRules: [String: [URLRule]], forensic: ForensicIndicators, os: OSCatalog,
        publicSuffixList: PublicSuffixList, cloudServices: CloudServiceCatalog
    ) {
        self.sources = sources
        self.sourceStats = sourceStats
        self.labels = labels
        self.domains = domains
        self.appIds = appIds
        self.signers = signers
        self.packageHashes = packageHashes
        self.urlRules = urlRules
        self.forensic = forensic
        self.os = os
        self.publicSuffixList = publicSuffixList
        self.cloudServices = cloudServices
    }

    /// An intelligence set with nothing in it but the OS catalog and suffix list given.
    public static func empty(os: OSCatalog = OSCatalog(), publicSuffixList: PublicSuffixList = PublicSuffixList(listText: "")) -> ThreatIntelligence {
        IntelligenceBuilder().build(os: os, publicSuffixList: publicSuffixList, cloudServices: CloudServiceCatalog(services: []))
    }

    public var domainCount: Int { domains.keyCount }

    // MARK: Matching

    /// True when the host or any parent domain of it is a domain (or IP) indicator.
    @inline(__always)
    public func matchesDomain(_ host: String) -> Bool {
        domains.contains(host: host)
    }

    /// `matchesDomain` for a host given as UTF-8 bytes (e.g. a line of a mapped file), without making a String.
    @inline(__always)
    public func matchesDomain(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        domains.containsSuffix(bytes: bytes)
    }

    /// MVT's fallback for hosts it cannot parse: when the host has no top-level domain the Public
    /// Suffix List knows (an IP with a prefix, a typo'd TLD), any indicator occurring anywhere in it
    /// matches. Off by default: it is looser than the parent-domain rule.
    public func matchesLeniently(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !publicSuffixList.knowsTopLevelDomain(ofHost: bytes) else { return false }
        return domains.containsSubstring(bytes: bytes)
    }

    /// Every indicator the host matches, most specific domain first.
    public func domainMatches(_ host: String) -> [IntelMatch] {
        var result: [IntelMatch] = []
        domains.forEachSuffixMatch(host) { key in
            domains.forEachRef(ofKey: key) { result.append(match(domains.key(at: key), kind: .domain, $0)) }
            return true
        }
        return result
    }

    /// Calls `body` for each indicator the host matches, without allocating when nothing matches.
    @inline(__always)
    public func forEachDomainMatch(_ host: String, _ body: (IntelMatch) -> Void) {
        domains.forEachSuffixMatch(host) { key in
            domains.forEachRef(ofKey: key) { body(match(domains.key(at: key), kind: .domain, $0)) }
            return true
        }
    }

    /// URL-level rules (host or parent host, plus path prefix) that match `url`.
    public func urlMatches(_ url: String) -> [IntelMatch] {
        guard !urlRules.isEmpty, let parts = URLParts(url) else { return [] }
        var result: [IntelMatch] = []
        var host = Substring(parts.host)
        while true {
            for rule in urlRules[String(host)] ?? [] where parts.path.hasPrefix(rule.pathPrefix) {
                result.append(match(String(host) + rule.pathPrefix, kind: .url, rule.ref))
            }
            guard let dot = host.firstIndex(of: ".") else { break }
            host = host[host.index(after: dot)...]
        }
        return result
    }

    /// App id (Android package or iOS bundle id), compared case-insensitively.
    @inline(__always)
    public func forEachAppIdMatch(_ id: String, _ body: (IntelMatch) -> Void) {
        appIds.forEachSuffixMatch(id, exactOnly: true) { key in
            appIds.forEachRef(ofKey: key) { body(match(appIds.key(at: key), kind: .appId, $0)) }
            return true
        }
    }

    /// Signing-certificate fingerprint (SHA-1 or SHA-256).
    @inline(__always)
    public func forEachSignerMatch(_ digest: HexDigest, _ body: (IntelMatch) -> Void) {
        guard let refs = signers[digest] else { return }
        for ref in refs { body(match(digest.description, kind: .signer, ref)) }
    }

    /// SHA-256 (or SHA-1) of a package or file.
    @inline(__always)
    public func forEachPackageHashMatch(_ digest: HexDigest, _ body: (IntelMatch) -> Void) {
        guard let refs = packageHashes[digest] else { return }
        for ref in refs { body(match(digest.description, kind: .packageHash, ref)) }
    }

    /// Process names match on their last path component; Android cuts names to 15 characters plus
    /// a terminator, so a 16-character observed name also matches an indicator it is a prefix of.
    public func processMatches(_ process: String) -> [IntelMatch] {
        let name = process.split(separator: "/").last.map(String.init) ?? process
        var result: [IntelMatch] = []
        for ref in forensic.processes[name] ?? [] { result.append(match(name, kind: .process, ref)) }
        if result.isEmpty, name.count == 16 {
            for (indicator, refs) in forensic.processes where indicator.hasPrefix(name) {
                for ref in refs { result.append(match(indicator, kind: .process, ref)) }
            }
        }
        return result
    }

    /// A path matches an indicator path it starts with, or an indicator file name it ends with.
    public func filePathMatches(_ path: String) -> [IntelMatch] {
        var result: [IntelMatch] = []
        for (indicator, ref) in forensic.filePaths {
            let prefix = indicator.hasSuffix("/") ? String(indicator.dropLast()) : indicator
            if path == prefix || path.hasPrefix(prefix + "/") {
                result.append(match(indicator, kind: .filePath, ref))
            }
        }
        if let name = path.split(separator: "/").last.map(String.init) {
            for ref in forensic.fileNames[name] ?? [] { result.append(match(name, kind: .fileName, ref)) }
        }
        return result
    }

    /// Configuration profile identifier or UUID, case-insensitive; an identifier that contains a known UUID matches.
    public func profileMatches(_ profile: String) -> [IntelMatch] {
        let upper = profile.uppercased()
        var result: [IntelMatch] = []
        for (indicator, refs) in forensic.profiles where upper == indicator || upper.contains(indicator) {
            for ref in refs { result.append(match(indicator, kind: .configurationProfile, ref)) }
        }
        return result
    }

    public func androidPropertyMatches(_ name: String) -> [IntelMatch] {
        (forensic.androidProperties[name] ?? []).map { match(name, kind: .androidProperty, $0) }
    }

    @inline(__always)
    private func match(_ indicator: String, kind: IntelMatch.Kind, _ ref: IndicatorRef) -> IntelMatch {
        IntelMatch(indicator: indicator, kind: kind, source: sources[ref.source], label: labels[ref.label])
    }
}

/// One indicator hit: what matched, in which source, and the family or app it belongs to.
public struct IntelMatch: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case domain, url, appId, signer, packageHash, process, filePath, fileName, configurationProfile, androidProperty
    }

    public var indicator: String
    public var kind: Kind
    public var source: IndicatorSource
    /// Family or app name, e.g. "Pegasus" or "TheTruthSpy".
    public var label: String

    public var classification: ThreatClassification { source.classification }
}
