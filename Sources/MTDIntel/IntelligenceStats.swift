/// How many indicators of each kind a source contributed; `openmtd intel stats` prints these.
public struct SourceStats: Sendable, Codable, Equatable {
    public var domains = 0
    public var ipAddresses = 0
    public var urls = 0
    public var appIds = 0
    public var signers = 0
    public var packageHashes = 0
    public var processes = 0
    public var filePaths = 0
    public var fileNames = 0
    public var configurationProfiles = 0
    public var androidProperties = 0
    public var emails = 0
    /// STIX2 pattern type (e.g. `domain-name:value`) → indicator count, for STIX2 sources.
    public var patternTypes: [String: Int] = [:]
    /// Lines or patterns that could not be used, with the first few for diagnosis.
    public var skipped = 0

    public init() {}

    public var total: Int {
        domains + ipAddresses + urls + appIds + signers + packageHashes + processes + filePaths + fileNames
            + configurationProfiles + androidProperties + emails
    }
}
