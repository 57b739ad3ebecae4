import Foundation
import MTDCore

/// Accumulates intelligence from files, then freezes it into an immutable `ThreatIntelligence`.
public struct IntelligenceBuilder: Sendable {
    private(set) var sources: [IndicatorSource] = []
    private(set) var sourceStats: [SourceStats] = []
    private var sourceIndex: [String: Int] = [:]
    private var labels: [String] = []
    private var labelIndex: [String: Int] = [:]
    private var domains = HostKeyTable.Builder()
    private var appIds = HostKeyTable.Builder()
    private var signers: [HexDigest: [IndicatorRef]] = [:]
    private var packageHashes: [HexDigest: [IndicatorRef]] = [:]
    private var urlRules: [String: [URLRule]] = [:]
    private var forensic = ForensicIndicators()

    public init() {}

    // MARK: Sources and labels

    mutating func source(_ id: String, name: String, classification: ThreatClassification, file: String) -> Int {
        if let index = sourceIndex[id] { return index }
        sources.append(IndicatorSource(id: id, name: name, classification: classification, file: file))
        sourceStats.append(SourceStats())
        sourceIndex[id] = sources.count - 1
        return sources.count - 1
    }

    mutating func label(_ text: String) -> Int {
        if let index = labelIndex[text] { return index }
        labels.append(text)
        labelIndex[text] = labels.count - 1
        return labels.count - 1
    }

    // MARK: Indicator kinds

    mutating func addHost(_ host: String, _ ref: IndicatorRef) {
        var host = host
        host.withUTF8 { addHost(bytes: $0, ref) }
    }

    mutating func addHost(bytes: UnsafeBufferPointer<UInt8>, _ ref: IndicatorRef) {
        var first = 0, last = bytes.count
        while first < last, bytes[first] == 32 || bytes[first] == 9 { first += 1 }
        while last > first, bytes[last - 1] == 32 || bytes[last - 1] == 9 { last -= 1 }
        guard first < last else { return }
        let host = UnsafeBufferPointer(rebasing: bytes[first..<last])
        domains.insert(bytes: host, ref)
        if HostKeyTable.isIPv4Literal(host, host.count) { sourceStats[ref.source].ipAddresses += 1 } else { sourceStats[ref.source].domains += 1 }
    }

    mutating func addURL(host: String, pathPrefix: String, _ ref: IndicatorRef) {
        urlRules[host.lowercased(), default: []].append(URLRule(pathPrefix: pathPrefix, ref: ref))
        sourceStats[ref.source].urls += 1
    }

    mutating func addURL(_ url: String, _ ref: IndicatorRef) {
        guard let parts = URLParts(url) else {
            sourceStats[ref.source].skipped += 1
            return
        }
        addURL(host: parts.host, pathPrefix: parts.path, ref)
    }

    mutating func addAppId(_ id: String, _ ref: IndicatorRef) {
        var id = id
        id.withUTF8 { appIds.insert(bytes: $0, ref) }
        sourceStats[ref.source].appIds += 1
    }

    @discardableResult
    mutating func addSigner(_ text: String, _ ref: IndicatorRef) -> Bool {
        guard let digest = HexDigest(text) else {
            sourceStats[ref.source].skipped += 1
            return false
        }
        if signers[digest, default: []].contains(ref) { return true }
        signers[digest, default: []].append(ref)
        sourceStats[ref.source].signers += 1
        return true
    }

    mutating func addPackageHash(_ text: String, _ ref: IndicatorRef) {
        guard let digest = HexDigest(text) else {
            sourceStats[ref.source].skipped += 1
            return
        }
        if packageHashes[digest, default: []].contains(ref) { return }
        packageHashes[digest, default: []].append(ref)
        sourceStats[ref.source].packageHashes += 1
    }

    // MARK: Formats

    /// Adds one file described by a manifest entry. `data` is the file's content.
    public mutating func add(_ entry: IntelligenceFileEntry, data: Data) throws(IntelligenceError) {
        switch entry.format {
        case .stix2:
            try addSTIX2(entry, data: data)
        case .stalkerwareYAML:
            try addStalkerwareCatalog(entry, text: try Self.text(data, entry))
        case .stalkerwareSamples:
            try addStalkerwareSamples(entry, text: try Self.text(data, entry))
        case .hostList:
            let source = source(entry.id, name: entry.name, classification: try Self.classification(entry), file: entry.file)
            let text = try Self.text(data, entry)
            let ref = IndicatorRef(source: source, label: label(entry.name))
            TextLists.hosts(in: text) { host in addHost(bytes: host, ref) }
        case .ublockRules:
            let source = source(entry.id, name: entry.name, classification: try Self.classification(entry), file: entry.file)
            let ref = IndicatorRef(source: source, label: label(entry.name))
            TextLists.ublockRules(in: try Self.text(data, entry)) { rule in
                switch rule {
                case .host(let host): addHost(bytes: host, ref)
                case .url(let host, let path):
                    addURL(host: String(decoding: host, as: UTF8.self), pathPrefix: String(decoding: path, as: UTF8.self), ref)
                case .unsupported: sourceStats[source].skipped += 1
                }
            }
        case .appCSV:
            addAppRows(entry, try AppIntelligenceFile(csv: try Self.text(data, entry), file: entry.file).rows)
        case .appJSON:
            addAppRows(entry, try AppIntelligenceFile(json: data, file: entry.file).rows)
        }
    }

    private mutating func addSTIX2(_ entry: IntelligenceFileEntry, data: Data) throws(IntelligenceError) {
        let bundle = try STIX2Bundle(data: data, file: entry.file)
        let source = source(entry.id, name: entry.name, classification: entry.classification ?? .spyware, file: entry.file)
        let fallbackLabel = label(bundle.families.first ?? entry.name)
        sourceStats[source].skipped += bundle.unsupportedPatterns.count
        for indicator in bundle.indicators {
            let ref = IndicatorRef(source: source, label: indicator.family.map { label($0) } ?? fallbackLabel)
            sourceStats[source].patternTypes[indicator.type, default: 0] += 1
            let value = indicator.value
            switch indicator.type {
            case "domain-name:value", "ipv4-addr:value", "ipv6-addr:value": addHost(value, ref)
            case "url:value": addURL(value, ref)
            case "app:id": addAppId(value, ref)
            case "app:cert.sha256", "app:cert.sha1": addSigner(value, ref)
            case "file:hashes.sha256", "file:hashes.sha1": addPackageHash(value, ref)
            case "process:name":
                forensic.processes[value, default: []].append(ref)
                sourceStats[source].processes += 1
            case "file:path":
                forensic.filePaths.append((value, ref))
                sourceStats[source].filePaths += 1
            case "file:name":
                forensic.fileNames[value, default: []].append(ref)
                sourceStats[source].fileNames += 1
            case "configuration-profile:id":
                forensic.profiles[value.uppercased(), default: []].append(ref)
                sourceStats[source].configurationProfiles += 1
            case "android-property:name":
                forensic.androidProperties[value, default: []].append(ref)
                sourceStats[source].androidProperties += 1
            case "email-addr:value":
                sourceStats[source].emails += 1
            default:
                sourceStats[source].skipped += 1
            }
        }
    }

    private mutating func addStalkerwareCatalog(_ entry: IntelligenceFileEntry, text: String) throws(IntelligenceError) {
        let catalog = try StalkerwareCatalog(yaml: text, file: entry.file)
        let source = source(entry.id, name: entry.name, classification: entry.classification ?? .surveillanceware, file: entry.file)
        let websites = entry.websitesClassification.map {
            self.source(entry.id + ":websites", name: entry.name + " (vendor websites)", classification: $0, file: entry.file)
        }
        for app in catalog.apps {
            let ref = IndicatorRef(source: source, label: label(app.name))
            for package in app.packages ?? [] { addAppId(package, ref) }
            for bundle in app.ios_bundles ?? [] { addAppId(bundle, ref) }
            for certificate in app.certificates ?? [] { addSigner(certificate, ref) }
            for host in app.c2?.domains ?? [] { addHost(host, ref) }
            for ip in app.c2?.ips ?? [] { addHost(ip, ref) }
            if let websites {
                let siteRef = IndicatorRef(source: websites, label: ref.label)
                for site in app.websites ?? [] { addHost(site, siteRef) }
            }
        }
    }

    private mutating func addStalkerwareSamples(_ entry: IntelligenceFileEntry, text: String) throws(IntelligenceError) {
        let rows = CSV.rows(text)
        guard let header = rows.first, header.count >= 5, header[0].uppercased() == "SHA256" else {
            throw IntelligenceError(file: entry.file, message: "line 1: expected the header SHA256,Package Name,Certificate,Version,App")
        }
        let source = source(entry.id, name: entry.name, classification: entry.classification ?? .surveillanceware, file: entry.file)
        for row in rows.dropFirst() where row.count >= 5 {
            let ref = IndicatorRef(source: source, label: label(row[4]))
            addPackageHash(row[0], ref)
        }
    }

    private mutating func addAppRows(_ entry: IntelligenceFileEntry, _ rows: [AppIntelligenceFile.Row]) {
        for row in rows {
            // One source per classification keeps "classification comes from the source" true for app files too.
            let source = source(
                "\(entry.id):\(row.classification.rawValue.lowercased())", name: entry.name,
                classification: row.classification, file: entry.file)
            let ref = IndicatorRef(source: source, label: label(row.label ?? row.id ?? entry.name))
            if let id = row.id { addAppId(id, ref) }
            if let signer = row.signer { addSigner(signer, ref) }
            if let hash = row.sha256 { addPackageHash(hash, ref) }
        }
    }

    // MARK: Freezing

    public func build(os: OSCatalog, publicSuffixList: PublicSuffixList, cloudServices: CloudServiceCatalog) -> ThreatIntelligence {
        ThreatIntelligence(
            sources: sources, sourceStats: sourceStats, labels: labels.isEmpty ? [""] : labels,
            domains: HostKeyTable(builder: domains), appIds: HostKeyTable(builder: appIds), signers: DigestTable(signers),
            packageHashes: DigestTable(packageHashes), urlRules: urlRules, forensic: forensic, os: os,
            publicSuffixList: publicSuffixList, cloudServices: cloudServices)
    }

    // MARK: Helpers

    private static func text(_ data: Data, _ entry: IntelligenceFileEntry) throws(IntelligenceError) -> String {
        guard let text = String(data: data, encoding: .utf8) else {
            throw IntelligenceError(file: entry.file, message: "not UTF-8 text")
        }
        return text
    }

    private static func classification(_ entry: IntelligenceFileEntry) throws(IntelligenceError) -> ThreatClassification {
        guard let classification = entry.classification else {
            throw IntelligenceError(file: entry.file, message: "a \(entry.format.rawValue) file needs a classification (e.g. --classification PHISHING_CONTENT)")
        }
        return classification
    }
}

/// A URL-level rule: the host (or a subdomain) serving a path that starts with `pathPrefix`.
struct URLRule: Sendable {
    var pathPrefix: String
    var ref: IndicatorRef
}

/// Host and path of a URL, without Foundation's URL parsing so that malformed malware URLs still split.
public struct URLParts: Sendable, Equatable {
    public var host: String
    public var path: String

    public init?(_ url: String) {
        // Byte-level splitting: this runs for content visits on the check-in path.
        let bytes = Array(url.utf8)
        var start = 0
        if let scheme = Self.find([58, 47, 47], in: bytes) { start = scheme + 3 } // "://"
        var hostEnd = start
        while hostEnd < bytes.count, bytes[hostEnd] != 47, bytes[hostEnd] != 63, bytes[hostEnd] != 35 { hostEnd += 1 } // / ? #
        var hostStart = start
        if let at = bytes[start..<hostEnd].lastIndex(of: 64) { hostStart = at + 1 } // @
        var hostStop = hostEnd
        if !bytes[hostStart..<hostEnd].contains(93), let colon = bytes[hostStart..<hostEnd].lastIndex(of: 58) { hostStop = colon } // ] and :
        guard hostStop > hostStart else { return nil }
        host = String(decoding: bytes[hostStart..<hostStop], as: UTF8.self).lowercased()
        path = hostEnd < bytes.count ? String(decoding: bytes[hostEnd...], as: UTF8.self) : "/"
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        for index in 0...(bytes.count - needle.count) where bytes[index] == needle[0] {
            if Array(bytes[index..<(index + needle.count)]) == needle { return index }
        }
        return nil
    }
}
