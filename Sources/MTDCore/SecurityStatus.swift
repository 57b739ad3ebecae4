/// A device's security status: the highest counted severity among its open threats.
public enum SecurityStatus: String, Codable, Sendable, CaseIterable {
    case secure = "SECURE"
    case threatsLow = "THREATS_LOW"
    case threatsMedium = "THREATS_MEDIUM"
    case threatsHigh = "THREATS_HIGH"

    public init(highestSeverity: Severity) {
        switch highestSeverity {
        case .none: self = .secure
        case .low: self = .threatsLow
        case .medium: self = .threatsMedium
        case .high: self = .threatsHigh
        }
    }
}
