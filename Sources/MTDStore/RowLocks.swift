import FluentKit
import Foundation
import SQLKit

/// Row locks for PostgreSQL, where check-ins run in parallel: two check-ins of the same device must
/// not reconcile threats at the same time. SQLite writes are serialized already, so it needs none.
public enum RowLocks {
    public static func lockDevice(_ deviceID: UUID, on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase, sql.dialect.name == "postgresql" else { return }
        try await sql.raw("SELECT id FROM devices WHERE id = \(bind: deviceID) FOR UPDATE").run()
    }

    /// Serializes enterprise-wide changes that number things (policy versions) on PostgreSQL.
    public static func lockEnterprise(_ enterpriseID: UUID, on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase, sql.dialect.name == "postgresql" else { return }
        try await sql.raw("SELECT id FROM enterprises WHERE id = \(bind: enterpriseID) FOR UPDATE").run()
    }
}
