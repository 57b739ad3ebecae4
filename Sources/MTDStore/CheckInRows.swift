import FluentKit
import Foundation
import MTDCore
import SQLKit

/// The rows a state-changing check-in reads and writes, in plain SQL. A check-in reads its device,
/// inventory and threats outside any transaction, works out every change in memory, and commits
/// them with a handful of statements guarded by the device's revision (see CheckInWriter in
/// MTDServer). Fluent's reflection-based models cost more per row than the rest of the check-in, so
/// models appear here only as in-memory values, built from rows and never saved through Fluent.
extension HotQueries {
    static let deviceColumns = """
        id, enterprise_id, external_id, udid, email, mdm, platform, mode, activation_status, connection_status,
        security_status, credential_hash, os_version, model, manufacturer, security_patch_level, agent_version,
        inventory_version, last_check_in_at, activated_at, policy_version, uem_device_id, uem_connection,
        uem_threat_level, revision
        """

    /// The device row as an in-memory model, without `last_facts` (a check-in replaces it).
    public static func device(_ deviceID: UUID, on database: any Database) async throws -> DeviceModel? {
        guard let row = try await sql(database).raw("SELECT \(unsafeRaw: deviceColumns) FROM devices WHERE id = \(bind: deviceID)").first() else {
            return nil
        }
        let device = DeviceModel()
        device.id = try row.decode(column: "id", as: UUID.self)
        device.$enterprise.id = try row.decode(column: "enterprise_id", as: UUID.self)
        device.externalID = try row.decode(column: "external_id", as: String?.self)
        device.udid = try row.decode(column: "udid", as: String?.self)
        device.email = try row.decode(column: "email", as: String?.self)
        device.mdm = try row.decode(column: "mdm", as: String?.self)
        device.platform = try row.decode(column: "platform", as: String.self)
        device.mode = try row.decode(column: "mode", as: String?.self)
        device.activationStatus = try row.decode(column: "activation_status", as: ActivationStatus.self)
        device.connectionStatus = try row.decode(column: "connection_status", as: ConnectionStatus.self)
        device.securityStatus = try row.decode(column: "security_status", as: SecurityStatus.self)
        device.credentialHash = try row.decode(column: "credential_hash", as: String?.self)
        device.osVersion = try row.decode(column: "os_version", as: String?.self)
        device.model = try row.decode(column: "model", as: String?.self)
        device.manufacturer = try row.decode(column: "manufacturer", as: String?.self)
        device.securityPatchLevel = try row.decode(column: "security_patch_level", as: String?.self)
        device.agentVersion = try row.decode(column: "agent_version", as: String?.self)
        device.inventoryVersion = try row.decode(column: "inventory_version", as: Int?.self)
        device.lastCheckInAt = try row.decode(column: "last_check_in_at", as: Date?.self)
        device.activatedAt = try row.decode(column: "activated_at", as: Date?.self)
        device.policyVersion = try row.decode(column: "policy_version", as: Int?.self)
        device.uemDeviceID = try row.decode(column: "uem_device_id", as: Int?.self)
        device.uemConnection = try row.decode(column: "uem_connection", as: String?.self)
        device.uemThreatLevel = try row.decode(column: "uem_threat_level", as: String?.self)
        device.revision = try row.decode(column: "revision", as: Int.self)
        return device
    }

    /// Writes what a check-in changes on its device, only if the device is still activated and at
    /// `expectedRevision`; false means another change came first and the check-in must start over.
    public static func writeCheckIn(
        _ device: DeviceModel, expectedRevision: Int, lastFacts: String, now: Date, on database: any Database
    ) async throws -> Bool {
        guard let id = device.id else { throw HotQueryError.missingID }
        let rows = try await sql(database).raw("""
            UPDATE devices SET security_status = \(bind: device.securityStatus.rawValue),
                connection_status = \(bind: device.connectionStatus.rawValue), os_version = \(bind: device.osVersion),
                security_patch_level = \(bind: device.securityPatchLevel), model = \(bind: device.model),
                manufacturer = \(bind: device.manufacturer), agent_version = \(bind: device.agentVersion), mode = \(bind: device.mode),
                inventory_version = \(bind: device.inventoryVersion), last_facts = \(bind: lastFacts),
                last_check_in_at = \(bind: device.lastCheckInAt), policy_version = \(bind: device.policyVersion),
                revision = \(bind: device.revision), updated_at = \(bind: now)
            WHERE id = \(bind: id) AND revision = \(bind: expectedRevision) AND activation_status = 'ACTIVATED'
            RETURNING id
            """).all()
        return rows.count == 1
    }

    /// Open and ignored threats of a device as in-memory models (for changes and event payloads).
    public static func activeThreatModels(of deviceID: UUID, on database: any Database) async throws -> [ThreatModel] {
        let rows = try await sql(database).raw("""
            SELECT id, enterprise_id, device_id, classification, subject, type, severity, status, fingerprint, evidence,
                   detected_at, resolved_at, status_reason
            FROM threats WHERE device_id = \(bind: deviceID) AND status IN ('OPEN', 'IGNORED')
            """).all()
        return try rows.map { row in
            let threat = ThreatModel()
            threat.id = try row.decode(column: "id", as: UUID.self)
            threat.enterpriseID = try row.decode(column: "enterprise_id", as: UUID.self)
            threat.$device.id = try row.decode(column: "device_id", as: UUID.self)
            threat.classification = try row.decode(column: "classification", as: String.self)
            threat.subject = try row.decode(column: "subject", as: String.self)
            threat.type = try row.decode(column: "type", as: String.self)
            threat.severity = try row.decode(column: "severity", as: Severity.self)
            threat.status = try row.decode(column: "status", as: ThreatStatus.self)
            threat.fingerprint = try row.decode(column: "fingerprint", as: String.self)
            threat.evidence = try row.decode(column: "evidence", as: String.self)
            threat.detectedAt = try row.decode(column: "detected_at", as: Date.self)
            threat.resolvedAt = try row.decode(column: "resolved_at", as: Date?.self)
            threat.statusReason = try row.decode(column: "status_reason", as: String?.self)
            return threat
        }
    }

    /// Writes the mutable fields of threats that a reconciliation changed (one statement each).
    public static func update(threats: [ThreatModel], now: Date, on database: any Database) async throws {
        let sql = try sql(database)
        for threat in threats {
            guard let id = threat.id else { throw HotQueryError.missingID }
            try await sql.raw("""
                UPDATE threats SET severity = \(bind: threat.severity.rawValue), status = \(bind: threat.status.rawValue),
                    fingerprint = \(bind: threat.fingerprint), evidence = \(bind: threat.evidence), resolved_at = \(bind: threat.resolvedAt),
                    status_reason = \(bind: threat.statusReason), updated_at = \(bind: now)
                WHERE id = \(bind: id)
                """).run()
        }
    }

    /// Replaces inventory rows: deletes the named apps, then inserts the given ones (one statement each).
    public static func replaceApps(
        deviceID: UUID, enterpriseID: UUID, deleting: [String], inserting: [InstalledApp], on database: any Database
    ) async throws {
        let sql = try sql(database)
        // Bound parameters per statement stay well below SQLite's limit (32,766) and PostgreSQL's (65,535).
        for chunk in deleting.chunked(500) {
            try await sql.delete(from: DeviceAppModel.schema)
                .where("device_id", .equal, SQLBind(deviceID))
                .where("app_id", .in, SQLBind.group(Array(chunk)))
                .run()
        }
        for chunk in inserting.chunked(500) {
            var insert = sql.insert(into: DeviceAppModel.schema).columns(
                "id", "device_id", "enterprise_id", "app_id", "name", "version", "source", "signer_sha1", "signer_sha256", "sha256", "permissions")
            for app in chunk {
                insert = insert.values([
                    SQLBind(UUID()), SQLBind(deviceID), SQLBind(enterpriseID), SQLBind(app.id), SQLBind(app.name), SQLBind(app.version),
                    SQLBind(app.source?.rawValue), SQLBind(app.signerSha1?.description), SQLBind(app.signerSha256?.description),
                    SQLBind(app.sha256?.description), SQLBind(app.permissions.map { StoredJSON.text($0) }),
                ])
            }
            try await insert.run()
        }
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: Swift.max(size, 1)).map { self[$0..<Swift.min($0 + Swift.max(size, 1), count)] }
    }
}
