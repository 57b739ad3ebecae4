/// Whether the device's agent is enrolled with the MTD.
public enum ActivationStatus: String, Codable, Sendable, CaseIterable {
    case pending = "PENDING"
    case activated = "ACTIVATED"
    case deactivated = "DEACTIVATED"
    case deleted = "DELETED"
}

/// Derived from the age of the last check-in, with configurable thresholds.
public enum ConnectionStatus: String, Codable, Sendable, CaseIterable {
    case connected = "CONNECTED"
    case unreachable = "UNREACHABLE"
    case disconnected = "DISCONNECTED"
}

/// A threat's lifecycle.
public enum ThreatStatus: String, Codable, Sendable, CaseIterable {
    case open = "OPEN"
    case ignored = "IGNORED"
    case resolved = "RESOLVED"
}

extension ActivationStatus: WireEnum {}
extension ConnectionStatus: WireEnum {}
extension ThreatStatus: WireEnum {}

/// How long without a check-in before a device counts as unreachable, then disconnected.
public struct ConnectionThresholds: Sendable, Equatable, Codable {
    public var unreachableAfterSeconds: Int
    public var disconnectedAfterSeconds: Int

    /// Defaults: a healthy phone checks in every few minutes to hours; a day of silence is
    /// unreachable, a week is disconnected.
    public init(unreachableAfterSeconds: Int = 86_400, disconnectedAfterSeconds: Int = 7 * 86_400) {
        self.unreachableAfterSeconds = unreachableAfterSeconds
        self.disconnectedAfterSeconds = disconnectedAfterSeconds
    }

    /// The connection status of a device whose last check-in was `age` seconds ago.
    public func status(forAge age: Double) -> ConnectionStatus {
        if age >= Double(disconnectedAfterSeconds) { return .disconnected }
        if age >= Double(unreachableAfterSeconds) { return .unreachable }
        return .connected
    }
}
