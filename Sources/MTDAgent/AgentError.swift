import Foundation

/// What went wrong, in terms of what the agent does next.
public enum AgentError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server no longer accepts the credential (revoked, device deleted or deactivated): activate again.
    case credentialRevoked(String)
    /// The server refused the enrollment code or the request: retrying the same thing will not help.
    case rejected(status: Int, message: String)
    /// Try again later; the server may say when.
    case retryable(String, retryAfter: Double?)
    case transport(String)
    case storage(String)
    case disabled

    public var description: String {
        switch self {
        case .credentialRevoked(let message): "the server revoked this device's credential: \(message)"
        case .rejected(let status, let message): "the server refused the request (\(status)): \(message)"
        case .retryable(let message, let after): "temporarily unavailable: \(message)" + (after.map { "; retry after \(Int($0)) s" } ?? "")
        case .transport(let message): "cannot reach the server: \(message)"
        case .storage(let message): "agent storage: \(message)"
        case .disabled: "the MTD is disabled in the configuration (isEnabled: false)"
        }
    }
}
