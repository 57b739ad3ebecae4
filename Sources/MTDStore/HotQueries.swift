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
        public var severity: String
        public var status: String
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
        return try rows.map { row in
            InstalledApp(
                id: try row.decode(column: "app_id", as: String.self),
                name: try row.decode(column: "name", as: String?.self),
                version: try row.decode(column: "version", as: String?.self),
                source: try row.decode(column: "source", as: String?.self).flatMap { AppSource(rawValue: $0) },
                signerSha1: try row.decode(column: "signer_sha1", as: String?.self).flatMap { HexDigest($0) },
                signerSha256: try row.decode(column: "signer_sha256", as: String?.self).flatMap { HexDigest($0) },
                sha256: try row.decode(column: "sha256", as: String?.self).flatMap { HexDigest($0) },
                permissions: try row.decode(column: "permissions", as: String?.self).flatMap {
                    try? JSONDecoder().decode([String].self, from: Data($0.utf8))
                })
        }
    }

    /// Open and ignored threats of a device.
    public static func activeThreats(of deviceID: UUID, on database: any Database) async throws -> [StoredThreat] {
        let rows = try await sql(database).raw("""
            SELECT id, classification, subject, severity, status, fingerprint FROM threats
            WHERE device_id = \(bind: deviceID) AND status IN ('OPEN', 'IGNORED')
            """).all()
        return try rows.map { row in
            StoredThreat(
                id: try row.decode(column: "id", as: UUID.self),
                classification: try row.decode(column: "classification", as: String.self),
                subject: try row.decode(column: "subject", as: String.self),
                severity: try row.decode(column: "severity", as: String.self),
                status: try row.decode(column: "status", as: String.self),
                fingerprint: try row.decode(column: "fingerprint", as: String.self))
        }
    }

    /// The steady-state write of a check-in that changed nothing else.
    public static func touch(deviceID: UUID, at date: Date, facts: String, policyVersion: Int, on database: any Database) async throws {
        try await sql(database).update(DeviceModel.schema)
            .set("last_check_in_at", to: date)
            .set("last_facts", to: facts)
            .set("policy_version", to: policyVersion)
            .where("id", .equal, deviceID)
            .run()
    }
}

enum HotQueryError: Error, CustomStringConvertible {
    case notSQL
    var description: String { "the database does not speak SQL" }
}
