/// Where the agent runs. Embedded agents live inside the MDM agent (Hub) and have no on-device
/// content filter, so they cannot see web content.
public enum DeploymentMode: String, Codable, Sendable, CaseIterable {
    case embedded = "EMBEDDED"
    case standalone = "STANDALONE"
}
