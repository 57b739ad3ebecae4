/// Every kind of threat OpenMTD can report: the 37 classifications of the Workspace ONE MTD capability
/// table, plus the Lookout v2 extras that one of our detectors produces.
public enum ThreatClassification: String, Codable, Sendable, CaseIterable, Comparable {
    case accessControlViolation = "ACCESS_CONTROL_VIOLATION"
    case activeMITM = "ACTIVE_MITM"
    case adware = "ADWARE"
    case appDropper = "APP_DROPPER"
    case backdoor = "BACKDOOR"
    case bot = "BOT"
    case chargeware = "CHARGEWARE"
    case clickFraud = "CLICK_FRAUD"
    case dataLeak = "DATA_LEAK"
    case denylistedApp = "DENYLISTED_APP"
    case denylistedContent = "DENYLISTED_CONTENT"
    case developerModeEnabled = "DEVELOPER_MODE_ENABLED"
    case exploit = "EXPLOIT"
    case maliciousContent = "MALICIOUS_CONTENT"
    case noDeviceLock = "NO_DEVICE_LOCK"
    case nonAppStoreSigner = "NON_APP_STORE_SIGNER"
    case offensiveContent = "OFFENSIVE_CONTENT"
    case outOfDateASPL = "OUT_OF_DATE_ASPL"
    case outOfDateOS = "OUT_OF_DATE_OS"
    case pcpDisabled = "PCP_DISABLED"
    case phishingContent = "PHISHING_CONTENT"
    case riskware = "RISKWARE"
    case rogueWiFi = "ROGUE_WIFI"
    case rootEnabler = "ROOT_ENABLER"
    case rootJailbreak = "ROOT_JAILBREAK"
    case spam = "SPAM"
    case spyware = "SPYWARE"
    case surveillanceware = "SURVEILLANCEWARE"
    case tollFraud = "TOLL_FRAUD"
    case trojan = "TROJAN"
    case unencrypted = "UNENCRYPTED"
    case unknownSourcesEnabled = "UNKNOWN_SOURCES_ENABLED"
    case usbDebuggingEnabled = "USB_DEBUGGING_ENABLED"
    case virus = "VIRUS"
    case vpnNotEnabled = "VPN_NOT_ENABLED"
    case vulnerability = "VULNERABILITY"
    case worm = "WORM"
    // Lookout v2 extras produced by our detectors.
    case sideloadedApp = "SIDELOADED_APP"
    case portScan = "PORT_SCAN"

    /// The classifications of the seed article's capability table, in its order.
    public static let capabilityTable: [ThreatClassification] = allCases.filter { !$0.isLookoutExtra }

    public var isLookoutExtra: Bool { self == .sideloadedApp || self == .portScan }

    public var type: ThreatType { ThreatCatalog.entry(for: self).type }
    public var summary: String { ThreatCatalog.entry(for: self).summary }
    public var defaultSeverity: Severity { ThreatCatalog.entry(for: self).defaultSeverity }

    /// Web content is only visible to the standalone app's on-device filter.
    public var detectableModes: Set<DeploymentMode> {
        type == .webContent || self == .pcpDisabled ? [.standalone] : [.embedded, .standalone]
    }

    public func isDetectable(in mode: DeploymentMode) -> Bool { detectableModes.contains(mode) }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
