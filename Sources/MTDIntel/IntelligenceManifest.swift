import MTDCore

/// The formats OpenMTD reads threat intelligence from.
public enum IntelligenceFormat: String, Codable, Sendable, CaseIterable {
    /// STIX 2.1 bundle as published by MVT and Amnesty International.
    case stix2
    /// AssoEchap `ioc.yaml` / `watchware.yaml`.
    case stalkerwareYAML = "stalkerware-yaml"
    /// AssoEchap `samples.csv`: SHA256, Package Name, Certificate, Version, App.
    case stalkerwareSamples = "stalkerware-samples"
    /// One host a line; `#` and `!` comments (blocklistproject, hosts lists).
    case hostList = "host-list"
    /// uBlock-style rules `||host^` and `||host/path^` (urlhaus-filter).
    case ublockRules = "ublock-rules"
    /// OpenMTD app intelligence CSV: `classification,id,signer,sha256,label`.
    case appCSV = "app-csv"
    /// OpenMTD app intelligence JSON: `{"apps":[{"classification":…,"id":…,"signer":…,"sha256":…,"label":…}]}`.
    case appJSON = "app-json"
}

/// One intelligence file and what it means. The shipped data and every imported file are described
/// by such entries, so provenance travels with each indicator.
public struct IntelligenceFileEntry: Codable, Sendable, Equatable {
    public var file: String
    public var format: IntelligenceFormat
    public var id: String
    public var name: String
    /// What a match means; app intelligence files carry a classification per row instead.
    public var classification: ThreatClassification?
    /// Stalkerware catalogs only: the classification of the vendors' own websites, if they should match.
    public var websitesClassification: ThreatClassification?
    public var attribution: String?

    public init(
        file: String, format: IntelligenceFormat, id: String, name: String, classification: ThreatClassification?,
        websitesClassification: ThreatClassification? = nil, attribution: String? = nil
    ) {
        self.file = file
        self.format = format
        self.id = id
        self.name = name
        self.classification = classification
        self.websitesClassification = websitesClassification
        self.attribution = attribution
    }
}

public struct IntelligenceManifest: Codable, Sendable, Equatable {
    public var files: [IntelligenceFileEntry]

    public init(files: [IntelligenceFileEntry]) {
        self.files = files
    }
}
