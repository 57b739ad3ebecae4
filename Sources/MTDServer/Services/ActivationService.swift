import MTDServices
import FluentKit
import Foundation
import MTDCore
import MTDStore

/// Activation binds an agent to a device with the enterprise's enrollment code and hands out a
/// device credential (a random token; only its hash is stored). Reactivation rotates the credential.
struct ActivationService: Sendable {
    let writes: WriteGate
    /// Told of each rotation and revocation, so this process stops attributing old tokens at once.
    let resolverTokens: ResolverTokenDirectory

    struct Request: Sendable {
        var enrollmentCode: String
        var udid: String?
        var externalID: String?
        var email: String?
        var mdm: String?
        var platform: Platform
        var mode: DeploymentMode
        var agentVersion: String?
    }

    struct Activation: Sendable {
        var deviceID: UUID
        var enterpriseID: UUID
        var credential: String
        var reactivated: Bool
        /// For the device's DNS profile (`/dns-query/{token}`, `{token}.` the DoT host).
        var resolverToken: String
    }

    enum Failure: Error {
        case unknownCode
        case unusableCode(enterpriseID: UUID, reason: String)
    }

    func activate(_ request: Request, on database: any Database, now: Date = Date()) async throws -> Activation {
        let code = request.enrollmentCode.trimmingCharacters(in: .whitespaces).uppercased()
        guard let enrollment = try await EnrollmentCodeModel.query(on: database).filter(\.$code == code).first() else {
            throw Failure.unknownCode
        }
        let enterpriseID = enrollment.$enterprise.id
        guard enrollment.isUsable(at: now) else {
            let reason = enrollment.revokedAt != nil ? "revoked" : "expired"
            try await writes.run {
                try await EventLog.append([
                    EventLog.NewEvent(
                        type: .audit, change: .created, actor: EventParty(type: "DEVICE", guid: request.udid ?? request.externalID),
                        target: EventParty(type: "ENTERPRISE", guid: enterpriseID.uuidString.lowercased()),
                        payload: AuditPayload(type: "ACTIVATION_REJECTED", changes: [.init(name: "enrollment_code", to: reason)]))
                ], enterpriseID: enterpriseID, on: database, now: now)
            }
            throw Failure.unusableCode(enterpriseID: enterpriseID, reason: reason)
        }
        let credential = Secrets.token(prefix: "mtdd_")
        // (enterprise, UDID) and (enterprise, UEM device id) are unique. Two activations of one phone
        // at once (an agent retrying after a timeout, two replicas) can both find no device and both
        // insert on PostgreSQL; the loser retries and finds the winner's device.
        var attempt = 0
        while true {
            attempt += 1
            do {
                let activation = try await activateOnce(request, enterpriseID: enterpriseID, credential: credential, on: database, now: now)
                resolverTokens.forget(deviceID: activation.deviceID)
                return activation
            } catch let error as any DatabaseError where error.isConstraintFailure && attempt < 4 {
                continue
            }
        }
    }

    private func activateOnce(_ request: Request, enterpriseID: UUID, credential: String, on database: any Database, now: Date) async throws -> Activation {
        let udid = request.udid.flatMap { $0.isEmpty ? nil : $0 }
        let externalID = request.externalID.flatMap { $0.isEmpty ? nil : $0 }
        return try await writes.run {
            try await database.transaction { tx in
                var existing: DeviceModel?
                if let externalID {
                    existing = try await DeviceModel.query(on: tx).filter(\.$enterprise.$id == enterpriseID).filter(\.$externalID == externalID).first()
                }
                if existing == nil, let udid {
                    existing = try await DeviceModel.query(on: tx).filter(\.$enterprise.$id == enterpriseID).filter(\.$udid == udid).first()
                }
                let device = existing ?? DeviceModel()
                // Checked before the change: a device already bound to this identity elsewhere keeps it.
                var udidFree = false
                var externalIDFree = false
                if let existing {
                    if let udid, existing.udid != udid {
                        udidFree = try await DeviceModel.query(on: tx).filter(\.$enterprise.$id == enterpriseID).filter(\.$udid == udid).first() == nil
                    }
                    if let externalID, existing.externalID != externalID {
                        externalIDFree = try await DeviceModel.query(on: tx).filter(\.$enterprise.$id == enterpriseID)
                            .filter(\.$externalID == externalID).first() == nil
                    }
                }
                if existing == nil { device.id = UUID() }
                let deviceID = try device.requireID()
                let actor = EventParty(type: "DEVICE", guid: deviceID.uuidString.lowercased())
                let event = try await DeviceLedger.record(device, actor: actor, on: tx) { device in
                    device.$enterprise.id = enterpriseID
                    if existing == nil {
                        // A new device carries both identities, so that a concurrent activation of the same
                        // phone hits the unique index and retries onto this one, never a device without identity.
                        device.udid = udid
                        device.externalID = externalID
                    } else {
                        // Found by one identity with another value of the other: it moves only if no other
                        // device holds it.
                        if udidFree { device.udid = udid }
                        if externalIDFree { device.externalID = externalID }
                    }
                    if let email = request.email { device.email = email }
                    if let mdm = request.mdm { device.mdm = mdm }
                    device.platform = request.platform.rawValue
                    device.mode = request.mode.rawValue
                    device.agentVersion = request.agentVersion ?? device.agentVersion
                    device.activationStatus = .activated
                    if existing == nil {
                        device.connectionStatus = .connected
                        device.securityStatus = .secure
                    }
                    device.credentialHash = Secrets.hash(credential)
                    device.activatedAt = now
                    device.recordCheckIn(at: now)
                }
                try await EventLog.append(event.map { [$0] } ?? [], enterpriseID: enterpriseID, on: tx, now: now)
                let resolverToken = try await ResolverTokens.issue(deviceID: deviceID, enterpriseID: enterpriseID, on: tx, now: now)
                return Activation(deviceID: deviceID, enterpriseID: enterpriseID, credential: credential, reactivated: existing != nil,
                                  resolverToken: resolverToken)
            }
        }
    }

    /// The agent (or an admin) switches protection off: the credential stops working.
    func deactivate(deviceID: UUID, actor: EventParty, on database: any Database, now: Date = Date()) async throws {
        try await writes.run {
            try await database.transaction { tx in
                guard let device = try await DeviceModel.find(deviceID, on: tx) else { throw APIError.notFound("device") }
                guard device.activationStatus != .deactivated else { return }
                let event = try await DeviceLedger.record(device, actor: actor, on: tx) { device in
                    device.activationStatus = .deactivated
                    device.credentialHash = nil
                }
                try await EventLog.append(event.map { [$0] } ?? [], enterpriseID: device.$enterprise.id, on: tx, now: now)
                try await ResolverTokens.revoke(deviceID: deviceID, on: tx, now: now)
            }
        }
        resolverTokens.forget(deviceID: deviceID)
    }
}
