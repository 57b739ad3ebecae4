/// Indicators found by forensic inspection rather than by network or app inventory: spyware process
/// names, files, configuration profiles and Android properties (from MVT-style STIX2 bundles).
struct ForensicIndicators: Sendable {
    var processes: [String: [IndicatorRef]] = [:]
    var filePaths: [(path: String, ref: IndicatorRef)] = []
    var fileNames: [String: [IndicatorRef]] = [:]
    /// Upper-cased profile identifiers or UUIDs.
    var profiles: [String: [IndicatorRef]] = [:]
    var androidProperties: [String: [IndicatorRef]] = [:]
}
