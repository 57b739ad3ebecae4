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

    /// What a check-in that changes something starts from: the device (without `last_facts`, which
    /// the check-in replaces), its inventory and its open and ignored threats, as in-memory values.
    public struct CheckInState: Sendable {
        public var device: DeviceModel
        public var apps: [InstalledApp]
        public var threats: [ThreatModel]
    }

    /// Reads the check-in state in one round trip: the device row with its inventory and threats
    /// aggregated into two JSON texts (on PostgreSQL as a prepared statement).
    public static func checkInState(of deviceID: UUID, on database: any Database) async throws -> CheckInState? {
        if let prepared = try await PostgresHotQueries.checkInState(of: deviceID, on: database) { return prepared }
        guard let row = try await sql(database).raw("""
            SELECT \(unsafeRaw: deviceColumns), \(sqliteAppsAggregate(deviceID)) AS apps_json,
                   \(sqliteThreatsAggregate(deviceID)) AS threats_json
            FROM devices WHERE id = \(bind: deviceID)
            """).first()
        else { return nil }
        let device = try deviceModel(from: row)
        let apps = try decodeApps(row.decode(column: "apps_json", as: String?.self))
        let threats = try decodeThreats(row.decode(column: "threats_json", as: String?.self), deviceID: deviceID)
        return CheckInState(device: device, apps: apps, threats: threats)
    }

    /// SQLite: the open and ignored threats as one JSON text, an array per threat in `ThreatRow`'s
    /// order. (PostgreSQL builds the same text in PostgresHotQueries.CheckInStateStatement.)
    static func sqliteThreatsAggregate(_ deviceID: UUID) -> SQLQueryString {
        """
        (SELECT json_group_array(json_array(id, enterprise_id, classification, subject, type, severity, status, fingerprint,
            evidence, status_reason, detected_at))
         FROM threats WHERE device_id = \(bind: deviceID) AND status IN ('OPEN', 'IGNORED'))
        """
    }

    static func decodeThreats(_ text: String?, deviceID: UUID) throws -> [ThreatModel] {
        guard let text, !text.isEmpty else { return [] }
        return try JSONDecoder().decode([ThreatRow].self, from: Data(text.utf8)).map { row in
            let threat = ThreatModel()
            threat.id = row.id
            threat.enterpriseID = row.enterpriseID
            threat.$device.id = deviceID
            threat.classification = row.classification
            threat.subject = row.subject
            threat.type = row.type
            threat.severity = row.severity
            threat.status = row.status
            threat.fingerprint = row.fingerprint
            threat.evidence = row.evidence
            threat.statusReason = row.statusReason
            threat.detectedAt = row.detectedAt
            return threat
        }
    }

    /// One threat of the threats aggregate (SQLite's or PostgreSQL's).
    struct ThreatRow: Decodable {
        var id: UUID
        var enterpriseID: UUID
        var classification: String
        var subject: String
        var type: String
        var severity: Severity
        var status: ThreatStatus
        var fingerprint: String
        var evidence: String
        var statusReason: String?
        var detectedAt: Date

        init(from decoder: any Decoder) throws {
            var fields = try decoder.unkeyedContainer()
            id = try Self.uuid(fields.decode(String.self), fields.codingPath)
            enterpriseID = try Self.uuid(fields.decode(String.self), fields.codingPath)
            classification = try fields.decode(String.self)
            subject = try fields.decode(String.self)
            type = try fields.decode(String.self)
            severity = try fields.decode(Severity.self)
            status = try fields.decode(ThreatStatus.self)
            fingerprint = try fields.decode(String.self)
            evidence = try fields.decode(String.self)
            statusReason = try fields.decodeNil() ? nil : try fields.decode(String.self)
            // Seconds since 1970: SQLite stores them so, PostgreSQL's extract(epoch …) gives them.
            detectedAt = Date(timeIntervalSince1970: try fields.decode(Double.self))
        }

        static func uuid(_ text: String, _ path: [any CodingKey]) throws -> UUID {
            guard let id = UUID(uuidString: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "not a UUID: \(text)"))
            }
            return id
        }
    }

    static func deviceModel(from row: any SQLRow) throws -> DeviceModel {
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
        if let prepared = try await PostgresHotQueries.writeCheckIn(
            device, deviceID: id, expectedRevision: expectedRevision, lastFacts: lastFacts, now: now, on: database) {
            return prepared
        }
        let rows = try await sql(database).raw("""
            UPDATE devices SET security_status = \(bind: device.securityStatus.rawValue),
                connection_status = \(bind: device.connectionStatus.rawValue), os_version = \(bind: device.osVersion),
                security_patch_level = \(bind: device.securityPatchLevel), model = \(bind: device.model),
                manufacturer = \(bind: device.manufacturer), agent_version = \(bind: device.agentVersion), mode = \(bind: device.mode),
                inventory_version = \(bind: device.inventoryVersion), last_facts = \(bind: lastFacts),
                last_check_in_at = \(bind: device.lastCheckInAt), last_check_in_hour = \(bind: device.lastCheckInHour), policy_version = \(bind: device.policyVersion),
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
            // A threat read for a check-in carries no resolution time; only a resolution writes one.
            let resolved: SQLQueryString = threat.resolvedAt.map { ", resolved_at = \(bind: $0)" } ?? ""
            try await sql.raw("""
                UPDATE threats SET severity = \(bind: threat.severity.rawValue), status = \(bind: threat.status.rawValue),
                    fingerprint = \(bind: threat.fingerprint), evidence = \(bind: threat.evidence),
                    status_reason = \(bind: threat.statusReason), updated_at = \(bind: now)\(resolved)
                WHERE id = \(bind: id)
                """).run()
        }
    }

    /// Deletes inventory rows: the named apps of each device, in as few statements as the bound
    /// parameter limits allow.
    public static func deleteApps(_ byDevice: [(deviceID: UUID, appIDs: [String])], on database: any Database) async throws {
        let sql = try sql(database)
        var clauses: [SQLQueryString] = []
        var binds = 0
        func flush() async throws {
            guard !clauses.isEmpty else { return }
            try await sql.raw("DELETE FROM device_apps WHERE \(clauses.joined(separator: " OR "))").run()
            clauses = []
            binds = 0
        }
        for (deviceID, appIDs) in byDevice {
            for chunk in appIDs.chunked(400) {
                let list = chunk.map { "\(bind: $0)" as SQLQueryString }.joined(separator: ", ")
                clauses.append("(device_id = \(bind: deviceID) AND app_id IN (\(list)))")
                binds += chunk.count + 1
                if binds >= 400 { try await flush() }
            }
        }
        try await flush()
    }

    /// Inserts inventory rows, 500 to a statement.
    public static func insertApps(_ rows: [(deviceID: UUID, enterpriseID: UUID, app: InstalledApp)], on database: any Database) async throws {
        let sql = try sql(database)
        // 11 parameters a row: within SQLite's limit (32,766) and PostgreSQL's (65,535).
        for chunk in rows.chunked(500) {
            var insert = sql.insert(into: DeviceAppModel.schema).columns(
                "id", "device_id", "enterprise_id", "app_id", "name", "version", "source", "signer_sha1", "signer_sha256", "sha256", "permissions")
            for (deviceID, enterpriseID, app) in chunk {
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
