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
        if let prepared = try await PostgresHotQueries.appsAndThreats(of: deviceID, on: database) { return prepared.0 }
        let row = try await sql(database).raw("SELECT \(sqliteAppsAggregate(deviceID)) AS apps").first()
        return try decodeApps(row?.decode(column: "apps", as: String?.self))
    }

    /// The inventory and the open and ignored threats in one round trip (the steady-state check-in).
    public static func appsAndThreats(of deviceID: UUID, on database: any Database) async throws -> ([InstalledApp], [StoredThreat]) {
        if let prepared = try await PostgresHotQueries.appsAndThreats(of: deviceID, on: database) { return prepared }
        let rows = try await sql(database).raw("""
            SELECT 'a' AS kind, NULL AS id, \(sqliteAppsAggregate(deviceID)) AS c1, NULL AS c2, NULL AS c3, NULL AS c4, NULL AS c5
            UNION ALL
            SELECT 't' AS kind, id, classification, subject, severity, status, fingerprint
            FROM threats WHERE device_id = \(bind: deviceID) AND status IN ('OPEN', 'IGNORED')
            """).all()
        var apps: [InstalledApp] = []
        var threats: [StoredThreat] = []
        for row in rows {
            if try row.decode(column: "kind", as: String.self) == "t" {
                threats.append(try threat(from: row, columns: .positional))
            } else {
                apps = try decodeApps(row.decode(column: "c1", as: String?.self))
            }
        }
        return (apps, threats)
    }

    /// The columns of an app, in the order `installedApp(_:)` reads them.
    static let appColumns = "app_id, name, version, source, signer_sha1, signer_sha256, sha256, permissions"

    /// SQLite: a scalar subquery that returns the device's whole inventory as one JSON text, an
    /// array of one array per app. Decoding fifty rows of eight columns by name through SQLKit cost
    /// more than all of a steady-state check-in's other work; one text read by `JSONStringRows`
    /// costs a fraction of it. (PostgreSQL reads through prepared statements, PostgresHotQueries.)
    static func sqliteAppsAggregate(_ deviceID: UUID) -> SQLQueryString {
        "(SELECT json_group_array(json_array(\(unsafeRaw: appColumns))) FROM device_apps WHERE device_id = \(bind: deviceID))"
    }

    static func decodeApps(_ text: String?) throws -> [InstalledApp] {
        guard let text, !text.isEmpty else { return [] }
        return try JSONStringRows.parse(text).map(installedApp).sorted { $0.id < $1.id }
    }

    /// An app from its stored columns, in `appColumns` order.
    static func installedApp(_ fields: [String?]) throws -> InstalledApp {
        guard fields.count == 8, let id = fields[0] else { throw HotQueryError.badInventoryRow }
        return InstalledApp(
            id: id, name: fields[1], version: fields[2], source: fields[3].flatMap { AppSource(rawValue: $0) },
            signerSha1: fields[4].flatMap { HexDigest($0) }, signerSha256: fields[5].flatMap { HexDigest($0) },
            sha256: fields[6].flatMap { HexDigest($0) },
            permissions: fields[7].flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) })
    }

    /// Open and ignored threats of a device.
    public static func activeThreats(of deviceID: UUID, on database: any Database) async throws -> [StoredThreat] {
        let rows = try await sql(database).raw("""
            SELECT id, classification, subject, severity, status, fingerprint FROM threats
            WHERE device_id = \(bind: deviceID) AND status IN ('OPEN', 'IGNORED')
            """).all()
        return try rows.map { try threat(from: $0, columns: .named) }
    }

    /// Column names of the threat queries: their own names, or c1… in the union query.
    struct Columns {
        var threat: [String]

        static let named = Columns(threat: ["classification", "subject", "severity", "status", "fingerprint"])
        static let positional = Columns(threat: (1...5).map { "c\($0)" })
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
        if let prepared = try await PostgresHotQueries.snapshot(withCredentialHash: hash, on: database) { return prepared }
        return try await sql(database).raw("SELECT \(unsafeRaw: snapshotColumns) FROM devices WHERE credential_hash = \(bind: hash)").first().map(snapshot)
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
        if let prepared = try await PostgresHotQueries.touchIfUnchanged(
            deviceID: deviceID, revision: revision, at: date, facts: facts, policyVersion: policyVersion, on: database) {
            return prepared
        }
        let rows = try await sql(database).raw("""
            UPDATE devices SET last_check_in_at = \(bind: date), last_check_in_hour = \(bind: DeviceModel.checkInHour(date)),
                last_facts = \(bind: facts), policy_version = \(bind: policyVersion)
            WHERE id = \(bind: deviceID) AND revision = \(bind: revision) RETURNING id
            """).all()
        return rows.count == 1
    }
}

extension HotQueries {
    /// Inserts new threats, 500 to a statement (11 parameters a row, within every database's limit).
    /// The models must carry their ids.
    public static func insert(threats: [ThreatModel], on database: any Database) async throws {
        guard !threats.isEmpty else { return }
        let sql = try sql(database)
        for chunk in threats.chunked(500) {
            var insert = sql.insert(into: ThreatModel.schema).columns(
                "id", "enterprise_id", "device_id", "classification", "subject", "type", "severity", "status", "fingerprint", "evidence", "detected_at")
            for threat in chunk {
                guard let id = threat.id else { throw HotQueryError.missingID }
                insert = insert.values([
                    SQLBind(id), SQLBind(threat.enterpriseID), SQLBind(threat.$device.id), SQLBind(threat.classification), SQLBind(threat.subject),
                    SQLBind(threat.type), SQLBind(threat.severity.rawValue), SQLBind(threat.status.rawValue), SQLBind(threat.fingerprint),
                    SQLBind(threat.evidence), SQLBind(threat.detectedAt),
                ])
            }
            try await insert.run()
        }
    }
}

enum HotQueryError: Error, CustomStringConvertible {
    case notSQL
    case missingID
    case badInventoryRow
    case badStatus
    var description: String {
        switch self {
        case .notSQL: "the database does not speak SQL"
        case .missingID: "a new row has no id"
        case .badInventoryRow: "a stored app row could not be read (no app id)"
        case .badStatus: "a stored device or threat has a status or severity this version does not know"
        }
    }
}
