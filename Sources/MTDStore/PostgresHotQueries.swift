import FluentKit
import FluentPostgresDriver
import Foundation
import Logging
import MTDCore

/// The steady-state check-in's three statements as PostgreSQL prepared statements.
///
/// Sent as plain SQL, PostgreSQL planned each of them again for every check-in (about half of its
/// CPU time per check-in, measured with EXPLAIN ANALYZE: 0.2–0.3 ms of planning per statement), and
/// the rows came back through SQLKit's by-name decoding. Prepared once per pooled connection, they
/// are planned once and decoded by position into typed tuples.
enum PostgresHotQueries {
    static let logger = Logger(label: "openmtd.store.postgres")

    /// Every row of `statement`, run on the PostgreSQL connection behind `database` (prepared on
    /// that connection the first time); nil when the database is not PostgreSQL.
    static func rows<Statement: PostgresPreparedStatement>(
        _ statement: Statement, on database: any Database
    ) async throws -> [Statement.Row]? where Statement.Row: Sendable {
        guard let postgres = database as? any PostgresDatabase else { return nil }
        return try await postgres.withConnection { connection in
            connection.eventLoop.makeFutureWithTask {
                var rows: [Statement.Row] = []
                for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
                return rows
            }
        }.get()
    }

    /// The log along its primary key, unfiltered: replays and the stream fan-out read it by the thousand.
    struct EventRange: PostgresPreparedStatement {
        static let sql = """
            SELECT id, enterprise_id, type, change_type, created_at, actor_type, actor_id, target_type, target_id, payload
            FROM events WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3
            """
        typealias Row = (Int, UUID, String, String, Date, String, String?, String, String, String)

        var after: Int
        var upTo: Int
        var limit: Int

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 3)
            bindings.append(after)
            bindings.append(upTo)
            bindings.append(limit)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row {
            try row.decode(Row.self)
        }
    }

    /// Events after `after` up to `upTo`, oldest first; nil when the database is not PostgreSQL.
    static func events(after: Int, upTo: Int, limit: Int, on database: any Database) async throws -> [EventLog.Row]? {
        guard let rows = try await rows(EventRange(after: after, upTo: upTo, limit: limit), on: database) else { return nil }
        return rows.map { row in
            EventLog.Row(
                id: row.0, enterpriseID: row.1, type: row.2, changeType: row.3, createdAt: row.4, actorType: row.5, actorID: row.6,
                targetType: row.7, targetID: row.8, payload: row.9)
        }
    }

    struct SnapshotByCredential: PostgresPreparedStatement {
        static let sql = "SELECT \(HotQueries.snapshotColumns) FROM devices WHERE credential_hash = $1"
        typealias Row = (UUID, UUID, String, String, String, Int?, Int, String?, String?, String?, String?, String?, String?)

        var hash: String

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(hash)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row {
            try row.decode(Row.self)
        }
    }

    /// The outer nil: not PostgreSQL; the inner one: no such credential.
    static func snapshot(withCredentialHash hash: String, on database: any Database) async throws -> HotQueries.DeviceSnapshot?? {
        guard let rows = try await rows(SnapshotByCredential(hash: hash), on: database) else { return nil }
        guard let row = rows.first else { return .some(nil) }
        guard let activation = ActivationStatus(rawValue: row.2), let connectionStatus = ConnectionStatus(rawValue: row.3),
              let security = SecurityStatus(rawValue: row.4)
        else { throw HotQueryError.badStatus }
        return HotQueries.DeviceSnapshot(
            id: row.0, enterpriseID: row.1, activationStatus: activation, connectionStatus: connectionStatus, securityStatus: security,
            inventoryVersion: row.5, revision: row.6, osVersion: row.7, securityPatchLevel: row.8, model: row.9, manufacturer: row.10,
            agentVersion: row.11, mode: row.12)
    }

    /// Inventory rows and open or ignored threat rows, told apart by the first column.
    struct AppsAndThreats: PostgresPreparedStatement {
        static let sql = """
            SELECT 'a' AS kind, NULL::uuid AS id, app_id AS c1, name AS c2, version AS c3, source AS c4, signer_sha1 AS c5,
                   signer_sha256 AS c6, sha256 AS c7, permissions AS c8
            FROM device_apps WHERE device_id = $1
            UNION ALL
            SELECT 't', id, classification, subject, severity, status, fingerprint, NULL, NULL, NULL
            FROM threats WHERE device_id = $1 AND status IN ('OPEN', 'IGNORED')
            """
        typealias Row = (String, UUID?, String?, String?, String?, String?, String?, String?, String?, String?)

        var deviceID: UUID

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(deviceID)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row {
            try row.decode(Row.self)
        }
    }

    static func appsAndThreats(of deviceID: UUID, on database: any Database) async throws -> ([InstalledApp], [HotQueries.StoredThreat])? {
        guard let rows = try await rows(AppsAndThreats(deviceID: deviceID), on: database) else { return nil }
        var apps: [InstalledApp] = []
        var threats: [HotQueries.StoredThreat] = []
        for row in rows {
            if row.0 == "t" {
                guard let id = row.1, let classification = row.2, let subject = row.3, let severity = row.4.flatMap(Severity.init(rawValue:)),
                      let status = row.5.flatMap(ThreatStatus.init(rawValue:)), let fingerprint = row.6
                else { throw HotQueryError.badStatus }
                threats.append(.init(id: id, classification: classification, subject: subject, severity: severity, status: status, fingerprint: fingerprint))
            } else {
                apps.append(try HotQueries.installedApp([row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9]))
            }
        }
        return (apps.sorted { $0.id < $1.id }, threats)
    }

    struct TouchIfUnchanged: PostgresPreparedStatement {
        static let sql = """
            UPDATE devices SET last_check_in_at = $1, last_check_in_hour = $2, last_facts = $3, policy_version = $4
            WHERE id = $5 AND revision = $6 RETURNING id
            """
        typealias Row = UUID

        var date: Date
        var facts: String
        var policyVersion: Int
        var deviceID: UUID
        var revision: Int

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 6)
            bindings.append(date)
            bindings.append(DeviceModel.checkInHour(date))
            bindings.append(facts)
            bindings.append(policyVersion)
            bindings.append(deviceID)
            bindings.append(revision)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row {
            try row.decode(UUID.self)
        }
    }

    static func touchIfUnchanged(
        deviceID: UUID, revision: Int, at date: Date, facts: String, policyVersion: Int, on database: any Database
    ) async throws -> Bool? {
        let statement = TouchIfUnchanged(date: date, facts: facts, policyVersion: policyVersion, deviceID: deviceID, revision: revision)
        return try await rows(statement, on: database).map { $0.count == 1 }
    }
}

/// The changing check-in's own two statements, prepared the same way.
extension PostgresHotQueries {
    struct CheckInStateStatement: PostgresPreparedStatement {
        static let sql = """
            SELECT \(HotQueries.deviceColumns),
                (SELECT COALESCE(json_agg(json_build_array(\(HotQueries.appColumns))), '[]')::text
                 FROM device_apps WHERE device_id = $1) AS apps_json,
                (SELECT COALESCE(json_agg(json_build_array(id, enterprise_id, classification, subject, type, severity, status, fingerprint,
                    evidence::text, status_reason, extract(epoch from detected_at))), '[]')::text
                 FROM threats WHERE device_id = $1 AND status IN ('OPEN', 'IGNORED')) AS threats_json
            FROM devices WHERE id = $1
            """
        typealias Row = (
            UUID, UUID, String?, String?, String?, String?, String, String?, String, String, String, String?, String?, String?, String?,
            String?, String?, Int?, Date?, Date?, Int?, Int?, String?, String?, Int, String?, String?
        )

        var deviceID: UUID

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(deviceID)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row {
            try row.decode(Row.self)
        }
    }

    /// The outer nil: not PostgreSQL; the inner one: no such device.
    static func checkInState(of deviceID: UUID, on database: any Database) async throws -> HotQueries.CheckInState?? {
        guard let rows = try await rows(CheckInStateStatement(deviceID: deviceID), on: database) else { return nil }
        var state: HotQueries.CheckInState?
        for row in rows {
            guard let activation = ActivationStatus(rawValue: row.8), let connectionStatus = ConnectionStatus(rawValue: row.9),
                  let security = SecurityStatus(rawValue: row.10)
            else { throw HotQueryError.badStatus }
            let device = DeviceModel()
            device.id = row.0
            device.$enterprise.id = row.1
            device.externalID = row.2
            device.udid = row.3
            device.email = row.4
            device.mdm = row.5
            device.platform = row.6
            device.mode = row.7
            device.activationStatus = activation
            device.connectionStatus = connectionStatus
            device.securityStatus = security
            device.credentialHash = row.11
            device.osVersion = row.12
            device.model = row.13
            device.manufacturer = row.14
            device.securityPatchLevel = row.15
            device.agentVersion = row.16
            device.inventoryVersion = row.17
            device.lastCheckInAt = row.18
            device.activatedAt = row.19
            device.policyVersion = row.20
            device.uemDeviceID = row.21
            device.uemConnection = row.22
            device.uemThreatLevel = row.23
            device.revision = row.24
            state = HotQueries.CheckInState(
                device: device, apps: try HotQueries.decodeApps(row.25), threats: try HotQueries.decodeThreats(row.26, deviceID: deviceID))
        }
        return state
    }

    struct WriteCheckInStatement: PostgresPreparedStatement {
        static let sql = """
            UPDATE devices SET security_status = $1, connection_status = $2, os_version = $3, security_patch_level = $4, model = $5,
                manufacturer = $6, agent_version = $7, mode = $8, inventory_version = $9, last_facts = $10, last_check_in_at = $11,
                last_check_in_hour = $12, policy_version = $13, revision = $14, updated_at = $15
            WHERE id = $16 AND revision = $17 AND activation_status = 'ACTIVATED'
            RETURNING id
            """
        typealias Row = UUID

        var device: DeviceModel
        var deviceID: UUID
        var expectedRevision: Int
        var lastFacts: String
        var now: Date

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 17)
            bindings.append(device.securityStatus.rawValue)
            bindings.append(device.connectionStatus.rawValue)
            bindings.append(device.osVersion)
            bindings.append(device.securityPatchLevel)
            bindings.append(device.model)
            bindings.append(device.manufacturer)
            bindings.append(device.agentVersion)
            bindings.append(device.mode)
            bindings.append(device.inventoryVersion)
            bindings.append(lastFacts)
            bindings.append(device.lastCheckInAt)
            bindings.append(device.lastCheckInHour)
            bindings.append(device.policyVersion)
            bindings.append(device.revision)
            bindings.append(now)
            bindings.append(deviceID)
            bindings.append(expectedRevision)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row {
            try row.decode(UUID.self)
        }
    }

    static func writeCheckIn(
        _ device: DeviceModel, deviceID: UUID, expectedRevision: Int, lastFacts: String, now: Date, on database: any Database
    ) async throws -> Bool? {
        let statement = WriteCheckInStatement(device: device, deviceID: deviceID, expectedRevision: expectedRevision, lastFacts: lastFacts, now: now)
        return try await rows(statement, on: database).map { $0.count == 1 }
    }
}
