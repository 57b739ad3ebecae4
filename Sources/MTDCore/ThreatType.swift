/// The broad family a threat classification belongs to, as in the Lookout v2 API.
public enum ThreatType: String, Codable, Sendable, CaseIterable {
    case application = "APPLICATION"
    case configuration = "CONFIGURATION"
    case os = "OS"
    case network = "NETWORK"
    case webContent = "WEB_CONTENT"
}
