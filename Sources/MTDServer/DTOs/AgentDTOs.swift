import MTDCore
import Vapor

struct ActivateRequest: Content {
    var enrollmentCode: String
    var platform: Platform
    var mode: DeploymentMode
    var udid: String?
    var externalId: String?
    var email: String?
    var mdm: String?
    var agentVersion: String?
}

struct ActivateResponse: Content {
    var deviceId: String
    var credential: String
    var checkInIntervalSeconds: Int
    var reactivated: Bool
    /// The device's resolver token: DoH at `/dns-query/{resolverToken}`, DoT with the server name
    /// `{resolverToken}.` followed by the resolver's host. A reactivation issues a new one.
    var resolverToken: String
}

struct CheckInResponse: Content {
    var nextCheckInSeconds: Int
    var policyVersion: Int
    var securityStatus: SecurityStatus
    /// The server missed an inventory version: send `apps.complete = true` next time.
    var fullInventoryRequired: Bool
    /// Pending device actions (none defined yet; the list keeps the contract open).
    var actions: [String]
}
