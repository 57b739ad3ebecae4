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
