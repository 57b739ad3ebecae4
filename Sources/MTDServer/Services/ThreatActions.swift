import MTDServices
import FluentKit
import Foundation
import MTDCore
import MTDStore

/// What an admin may do to a threat: ignore it, take the ignore back, or resolve it, always with a
/// reason. The admin API and the console call `perform`; the permission is checked here, once.
struct ThreatActions: Sendable {
    enum Action: String, Sendable, CaseIterable {
        case ignore
        case unignore
        case resolve

        var newStatus: ThreatStatus {
            switch self {
            case .ignore: .ignored
            case .unignore: .open
            case .resolve: .resolved
            }
        }

        /// The statuses the action applies to.
        var from: [ThreatStatus] {
            switch self {
            case .ignore: [.open]
            case .unignore: [.ignored]
            case .resolve: [.open, .ignored]
            }
        }

        var verb: String { self == .unignore ? "un-ignore" : rawValue }
    }

    let writes: WriteGate

    /// Changes the threat's status: one THREAT event, one AUDIT event, and a DEVICE event when the
    /// device's security status changes with it, all in one transaction.
    func perform(_ action: Action, threatID: UUID, reason rawReason: String, principal: AdminPrincipal,
                 on database: any Database, now: Date = Date()) async throws -> ThreatModel {
        try principal.require(\.canActOnThreats, "\(action.verb) threats")
        let reason = rawReason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw APIError.badRequest("say why: reason must not be empty", field: "$.reason") }
        let enterpriseID = principal.enterpriseID
        return try await writes.run {
            try await database.transaction { tx in
                guard let found = try await ThreatModel.query(on: tx).filter(\.$id == threatID).filter(\.$enterpriseID == enterpriseID).first() else {
                    throw APIError.notFound("threat")
                }
                // Lock the device first, as check-ins do, so the two never wait on each other in opposite order.
                try await RowLocks.lockDevice(found.$device.id, on: tx)
                guard let threat = try await ThreatModel.find(threatID, on: tx) else { throw APIError.notFound("threat") }
                guard action.from.contains(threat.status) else {
                    throw APIError.conflict("cannot \(action.verb) a threat that is \(threat.status.rawValue.lowercased())")
                }
                let previous = threat.status
                threat.status = action.newStatus
                threat.statusReason = reason
                if action == .resolve { threat.resolvedAt = now }
                try await threat.update(on: tx)
                var events = [
                    ThreatLedger.event(threat, .updated, actor: principal.actor),
                    EventLog.NewEvent(
                        type: .audit, change: .updated, actor: principal.actor, target: .init(type: "THREAT", guid: threatID.uuidString.lowercased()),
                        payload: AuditPayload(type: "THREAT", changes: [
                            .init(name: "status", from: previous.rawValue, to: action.newStatus.rawValue), .init(name: "reason", to: reason),
                        ])),
                ]
                let deviceID = threat.$device.id
                if let device = try await DeviceModel.find(deviceID, on: tx) {
                    let security = try await DeviceLedger.storedSecurityStatus(of: deviceID, on: tx)
                    if let event = try await DeviceLedger.record(device, actor: principal.actor, on: tx, change: { $0.securityStatus = security }) {
                        events.append(event)
                    }
                }
                try await EventLog.append(events, enterpriseID: enterpriseID, on: tx, now: now)
                return threat
            }
        }
    }
}
