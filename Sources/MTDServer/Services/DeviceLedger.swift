import FluentKit
import Foundation
import MTDCore
import MTDStore

/// The one way a device's state changes. Activation, deactivation, check-in facts, connection
/// transitions, security status, UEM links and re-evaluation all call `record`, in the caller's
/// transaction: it applies the change, compares the reported attributes before and after, bumps the
/// revision (so a concurrent steady-state check-in re-reads) and returns the DEVICE event that
/// describes the change, or nil when no reported attribute changed. The caller appends the event in
/// the same transaction as the rest of its change.
enum DeviceLedger {
    /// The attributes a DEVICE event reports, by their names in `changed_attributes`, in the order
    /// they are listed there.
    static let reportedAttributes: [(name: String, value: @Sendable (DeviceModel) -> String?)] = [
        ("security_status", { $0.securityStatus.rawValue }),
        ("connection_status", { $0.connectionStatus.rawValue }),
        ("activation_status", { $0.activationStatus.rawValue }),
        ("credential", { $0.credentialHash }),
        ("os_version", { $0.osVersion }),
        ("security_patch_level", { $0.securityPatchLevel }),
        ("model", { $0.model }),
        ("manufacturer", { $0.manufacturer }),
        ("agent_version", { $0.agentVersion }),
        ("mode", { $0.mode }),
        ("platform", { $0.platform }),
        ("udid", { $0.udid }),
        ("external_id", { $0.externalID }),
        ("email", { $0.email }),
        ("mdm_type", { $0.mdm }),
        // The UEM link: UEM sync wakes for it and applies the device's tags at once.
        ("uem_device_id", { $0.uemDeviceID.map(String.init) }),
    ]

    /// Applies `change` to `device`, saves it and returns the event describing what changed.
    ///
    /// A device without an id is new: it is created and its event is CREATED, without a list of
    /// changed attributes. A device whose activation becomes DELETED yields a DELETED event.
    static func record(
        _ device: DeviceModel, actor: EventParty, on tx: any Database, change: (DeviceModel) throws -> Void
    ) async throws -> EventLog.NewEvent? {
        guard device.$id.exists else {
            // A new model's fields are unset until the change sets them; reading them would trap.
            try change(device)
            device.bumpRevision()
            try await device.create(on: tx)
            let target = EventParty(type: "DEVICE", guid: try device.requireID().uuidString.lowercased())
            return EventLog.NewEvent(type: .device, change: .created, actor: actor, target: target, payload: DevicePayload(device))
        }
        let event = try apply(device, actor: actor, change: change)
        try await device.update(on: tx)
        return event
    }

    /// Applies `change` to an existing device in memory, bumps its revision and returns the event
    /// describing what changed (nil when no reported attribute did). The caller stores the device:
    /// `record` through Fluent, a check-in with one conditional UPDATE (HotQueries.writeCheckIn).
    static func apply(_ device: DeviceModel, actor: EventParty, change: (DeviceModel) throws -> Void) throws -> EventLog.NewEvent? {
        let before = reportedAttributes.map { $0.value(device) }
        let wasDeleted = device.activationStatus == .deleted
        try change(device)
        let changed = zip(reportedAttributes, before).compactMap { attribute, old in attribute.value(device) != old ? attribute.name : nil }
        device.bumpRevision()
        guard !changed.isEmpty, let deviceID = device.id else { return nil }
        let target = EventParty(type: "DEVICE", guid: deviceID.uuidString.lowercased())
        let kind: ChangeType = device.activationStatus == .deleted && !wasDeleted ? .deleted : .updated
        return EventLog.NewEvent(type: .device, change: kind, actor: actor, target: target, payload: DevicePayload(device, changed: changed))
    }

    /// The security status of a device whose open threats have these severities: the highest one.
    /// Ignored and resolved threats do not count. Every path that sets a security status derives it here.
    static func securityStatus(openSeverities: some Sequence<Severity>) -> SecurityStatus {
        SecurityStatus(highestSeverity: openSeverities.max() ?? .none)
    }

    /// The security status from the device's stored open threats, for changes made outside a
    /// reconciliation (an admin resolving or ignoring a threat).
    static func storedSecurityStatus(of deviceID: UUID, on tx: any Database) async throws -> SecurityStatus {
        let open = try await ThreatModel.query(on: tx)
            .filter(\.$device.$id == deviceID).filter(\.$status == .open)
            .field(\.$severity).all().map(\.severity)
        return securityStatus(openSeverities: open)
    }
}
