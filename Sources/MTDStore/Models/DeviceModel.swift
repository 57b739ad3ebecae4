import FluentKit
import Foundation
import enum MTDCore.ActivationStatus
import enum MTDCore.ConnectionStatus
import enum MTDCore.SecurityStatus

/// A device as the MTD knows it: identity from the UEM and the agent, derived state, and the last facts.
/// Statuses are typed and stored as their wire strings. Change a device only through the device
/// ledger (MTDServer), which bumps the revision and describes the change in one DEVICE event.
public final class DeviceModel: Model, @unchecked Sendable {
    public static let schema = "devices"

    @ID(key: .id) public var id: UUID?
    @Parent(key: "enterprise_id") public var enterprise: EnterpriseModel
    /// The UEM's device UUID (Workspace ONE `Uuid`), when known.
    @OptionalField(key: "external_id") public var externalID: String?
    @OptionalField(key: "udid") public var udid: String?
    @OptionalField(key: "email") public var email: String?
    @OptionalField(key: "mdm") public var mdm: String?
    @Field(key: "platform") public var platform: String
    @OptionalField(key: "mode") public var mode: String?
    @Field(key: "activation_status") public var activationStatus: ActivationStatus
    @Field(key: "connection_status") public var connectionStatus: ConnectionStatus
    @Field(key: "security_status") public var securityStatus: SecurityStatus
    /// SHA-256 of the device credential; the credential itself is only ever given to the agent.
    @OptionalField(key: "credential_hash") public var credentialHash: String?
    @OptionalField(key: "os_version") public var osVersion: String?
    @OptionalField(key: "model") public var model: String?
    @OptionalField(key: "manufacturer") public var manufacturer: String?
    @OptionalField(key: "security_patch_level") public var securityPatchLevel: String?
    @OptionalField(key: "agent_version") public var agentVersion: String?
    @OptionalField(key: "inventory_version") public var inventoryVersion: Int?
    /// The last check-in document, minus the app inventory (which lives in `device_apps`).
    @OptionalField(key: "last_facts") public var lastFacts: String?
    @OptionalField(key: "last_check_in_at") public var lastCheckInAt: Date?
    /// The hour (since 1970) of `lastCheckInAt`: what the check-in indexes hold (M018), so that a
    /// check-in changes an indexed column only once an hour. Set both through `recordCheckIn(at:)`.
    @OptionalField(key: "last_check_in_hour") public var lastCheckInHour: Int?
    @OptionalField(key: "activated_at") public var activatedAt: Date?
    @OptionalField(key: "policy_version") public var policyVersion: Int?
    /// The UEM's numeric device id, from device sync, in the UEM connection `uemConnection`.
    @OptionalField(key: "uem_device_id") public var uemDeviceID: Int?
    /// The UEM connection (UEMConnectionKey) the UEM id and threat level belong to; for another
    /// connection the device is not linked.
    @OptionalField(key: "uem_connection") public var uemConnection: String?
    /// The threat level the UEM confirmed it holds for the device (compliance sync); nil when none was reported.
    @OptionalField(key: "uem_threat_level") public var uemThreatLevel: String?
    /// Bumped by every change to the device's state or threats (see `HotQueries.touchIfUnchanged`).
    @Field(key: "revision") public var revision: Int
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) public var updatedAt: Date?

    public init() {
        revision = 0
    }

    /// Records a check-in time and its hour.
    public func recordCheckIn(at date: Date) {
        lastCheckInAt = date
        lastCheckInHour = Self.checkInHour(date)
    }

    /// Whole hours since 1970 (0 for a time no clock gives).
    public static func checkInHour(_ date: Date) -> Int {
        let hours = (date.timeIntervalSince1970 / 3600).rounded(.down)
        guard hours.isFinite, abs(hours) < 1e12 else { return 0 }
        return Int(hours)
    }

    /// Marks a change, so that concurrent steady-state check-ins re-read before committing.
    public func bumpRevision() {
        revision += 1
    }
}
