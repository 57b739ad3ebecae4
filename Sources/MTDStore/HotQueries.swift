import FluentKit
import Foundation
import MTDCore
import SQLKit

/// The queries every check-in runs, written in SQLKit: Fluent's reflection-based model decoding cost
/// more than the rest of a check-in together (measured with perf under wrk load).
public enum HotQueries {
    public struct StoredThreat: Sendable {
        public var id: UUID
        public var classification: String
        public var subject: String
        public var severity: Severity
        public var status: ThreatStatus
        public var fingerprint: String
    }

    static func sql(_ database: any Database) throws -> any SQLDatabase {
        guard let sql = database as? any SQLDatabase else { throw HotQueryError.notSQL }
        return sql
    }

    /// The device's stored inventory, ordered by app id.
    public static func apps(of deviceID: UUID, on database: any Database) async throws -> [InstalledApp] {
        let rows = try await sql(database).raw("""
            SELECT app_id, name, version, source, signer_sha1, signer_sha256, sha256, permissions
            FROM device_apps WHERE device_id = \(bind: deviceID) ORDER BY app_id
            """).all()
        return try rows.map { try app(from: $0, columns: .named) }
    }

    /// The inventory and the open and ignored threats in one round trip (the steady-state check-in).
    public static func appsAndThreats(of deviceID: UUID, on database: any Database) async throws -> ([InstalledApp], [StoredThreat]) {
        let rows = try await sql(database).raw("""
            SELECT 'a' AS kind, NULL AS id, app_id AS c1, name AS c2, version AS c3, source AS c4, signer_sha1 AS c5,
                   signer_sha256 AS c6, sha256 AS c7, permissions AS c8
            FROM device_apps WHERE device_id = \(bind: deviceID)
            UNION ALL
            SELECT 't' AS kind, id, classification, subject, severity, status, fingerprint, NULL, NULL, NULL
            FROM threats WHERE device_id = \(bind: deviceID) AND status IN ('OPEN', 'IGNORED')
            """).all()
        var apps: [InstalledApp] = []
        var threats: [StoredThreat] = []
        for row in rows {
            if try row.decode(column: "kind", as: String.self) == "t" {
                threats.append(try threat(from: row, columns: .positional))
            } else {
                apps.append(try app(from: row, columns: .positional))
            }
        }
        return (apps.sorted { $0.id < $1.id }, threats)
    }

    /// Open and ignored threats of a device.
    public static func activeThreats(of deviceID: UUID, on database: any Database) async throws -> [StoredThreat] {
        let rows = try await sql(database).raw("""
            SELECT id, classification, subject, severity, status, fingerprint FROM threats
            WHERE device_id = \(bind: deviceID) AND status IN ('OPEN', 'IGNORED')
            """).all()
        return try rows.map { try threat(from: $0, columns: .named) }
    }

    /// Column names of the app and threat queries: their own names, or c1… in the union query.
    struct Columns {
        var app: [String]
        var threat: [String]

        static let named = Columns(
            app: ["app_id", "name", "version", "source", "signer_sha1", "signer_sha256", "sha256", "permissions"],
            threat: ["classification", "subject", "severity", "status", "fingerprint"])
        static let positional = Columns(app: (1...8).map { "c\($0)" }, threat: (1...5).map { "c\($0)" })
    }

    static func app(from row: any SQLRow, columns: Columns) throws -> InstalledApp {
        InstalledApp(
            id: try row.decode(column: columns.app[0], as: String.self),
            name: try row.decode(column: columns.app[1], as: String?.self),
            version: try row.decode(column: columns.app[2], as: String?.self),
            source: try row.decode(column: columns.app[3], as: String?.self).flatMap { AppSource(rawValue: $0) },
            signerSha1: try row.decode(column: columns.app[4], as: String?.self).flatMap { HexDigest($0) },
            signerSha256: try row.decode(column: columns.app[5], as: String?.self).flatMap { HexDigest($0) },
            sha256: try row.decode(column: columns.app[6], as: String?.self).flatMap { HexDigest($0) },
            permissions: try row.decode(column: columns.app[7], as: String?.self).flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) })
    }

    /// Threat rows: `id` plus classification, subject, severity, status, fingerprint.
    static func threat(from row: any SQLRow, columns: Columns) throws -> StoredThreat {
        let names = columns.threat
        return StoredThreat(
            id: try row.decode(column: "id", as: UUID.self),
            classification: try row.decode(column: names[0], as: String.self),
            subject: try row.decode(column: names[1], as: String.self),
            severity: try row.decode(column: names[2], as: Severity.self),
            status: try row.decode(column: names[3], as: ThreatStatus.self),
            fingerprint: try row.decode(column: names[4], as: String.self))
    }

    /// What a steady-state check-in needs to know about a device, read without a transaction.
    public struct DeviceSnapshot: Sendable {
        public var id: UUID
        public var enterpriseID: UUID
        public var activationStatus: ActivationStatus
        public var connectionStatus: ConnectionStatus
        public var securityStatus: SecurityStatus
        public var inventoryVersion: Int?
        public var revision: Int
        public var osVersion: String?
        public var securityPatchLevel: String?
        public var model: String?
        public var manufacturer: String?
        public var agentVersion: String?
        public var mode: String?
    }

    static let snapshotColumns = """
        id, enterprise_id, activation_status, connection_status, security_status, inventory_version, revision,
        os_version, security_patch_level, model, manufacturer, agent_version, mode
        """

    public static func snapshot(of deviceID: UUID, on database: any Database) async throws -> DeviceSnapshot? {
        try await sql(database).raw("SELECT \(unsafeRaw: snapshotColumns) FROM devices WHERE id = \(bind: deviceID)").first().map(snapshot)
    }

    /// The device a credential belongs to, with its snapshot: authentication and the steady-state
    /// check-in share one query.
    public static func snapshot(withCredentialHash hash: String, on database: any Database) async throws -> DeviceSnapshot? {
        try await sql(database).raw("SELECT \(unsafeRaw: snapshotColumns) FROM devices WHERE credential_hash = \(bind: hash)").first().map(snapshot)
    }

    static func snapshot(_ row: any SQLRow) throws -> DeviceSnapshot {
        DeviceSnapshot(
            id: try row.decode(column: "id", as: UUID.self),
            enterpriseID: try row.decode(column: "enterprise_id", as: UUID.self),
            activationStatus: try row.decode(column: "activation_status", as: ActivationStatus.self),
            connectionStatus: try row.decode(column: "connection_status", as: ConnectionStatus.self),
            securityStatus: try row.decode(column: "security_status", as: SecurityStatus.self),
            inventoryVersion: try row.decode(column: "inventory_version", as: Int?.self),
            revision: try row.decode(column: "revision", as: Int.self),
            osVersion: try row.decode(column: "os_version", as: String?.self),
            securityPatchLevel: try row.decode(column: "security_patch_level", as: String?.self),
            model: try row.decode(column: "model", as: String?.self),
            manufacturer: try row.decode(column: "manufacturer", as: String?.self),
            agentVersion: try row.decode(column: "agent_version", as: String?.self),
            mode: try row.decode(column: "mode", as: String?.self))
    }

    /// Records a check-in that changed nothing, only if the device is still at `revision`; false
    /// means something changed meanwhile and the caller must take the transactional path.
    public static func touchIfUnchanged(
        deviceID: UUID, revision: Int, at date: Date, facts: String, policyVersion: Int, on database: any Database
    ) async throws -> Bool {
        let rows = try await sql(database).raw("""
            UPDATE devices SET last_check_in_at = \(bind: date), last_facts = \(bind: facts), policy_version = \(bind: policyVersion)
            WHERE id = \(bind: deviceID) AND revision = \(bind: revision) RETURNING id
            """).all()
        return rows.count == 1
    }
}

extension HotQueries {
    /// Inserts new threats in one statement. The models must carry their ids.
    public static func insert(threats: [ThreatModel], on database: any Database) async throws {
        guard !threats.isEmpty else { return }
        var insert = try sql(database).insert(into: ThreatModel.schema).columns(
            "id", "enterprise_id", "device_id", "classification", "subject", "type", "severity", "status", "fingerprint", "evidence", "detected_at")
        for threat in threats {
            guard let id = threat.id else { throw HotQueryError.missingID }
            insert = insert.values([
                SQLBind(id), SQLBind(threat.enterpriseID), SQLBind(threat.$device.id), SQLBind(threat.classification), SQLBind(threat.subject),
                SQLBind(threat.type), SQLBind(threat.severity.rawValue), SQLBind(threat.status.rawValue), SQLBind(threat.fingerprint), SQLBind(threat.evidence),
                SQLBind(threat.detectedAt),
            ])
        }
        try await insert.run()
    }
}

enum HotQueryError: Error, CustomStringConvertible {
    case notSQL
    case missingID
    var description: String {
        switch self {
        case .notSQL: "the database does not speak SQL"
        case .missingID: "a new row has no id"
        }
    }
}
