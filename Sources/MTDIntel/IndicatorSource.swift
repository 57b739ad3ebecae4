import MTDCore

/// Where a group of indicators comes from, and what a match means. Every finding names its source so
/// an analyst can judge the evidence.
public struct IndicatorSource: Sendable, Hashable, Codable {
    /// Stable id such as `stix2:pegasus` or `blocklistproject:phishing`.
    public var id: String
    /// Human name, e.g. "NSO Group Pegasus (Amnesty International Security Lab)".
    public var name: String
    public var classification: ThreatClassification
    /// The file the indicators were read from, relative to the intelligence folder.
    public var file: String

    public init(id: String, name: String, classification: ThreatClassification, file: String) {
        self.id = id
        self.name = name
        self.classification = classification
        self.file = file
    }
}

/// Compact reference to one indicator's provenance: which source, and which named family or app inside it.
public struct IndicatorRef: Sendable, Hashable {
    public var source: Int
    public var label: Int
}
