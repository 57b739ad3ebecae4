import FluentKit
import SQLKit

/// One change to the built-in UEM and the reconciliation it causes, as one transaction.
///
/// On PostgreSQL two such transactions may run at once (a tag added and another removed for the same
/// device, from two MTD workers or two replicas). Both would read "profile not installed" and both
/// insert it, and the second fails on the unique index. A transaction-scoped advisory lock makes UEM
/// changes take turns; SQLite serializes its writers already. The UEM's changes are small and few
/// next to reads, so one turn for all of them costs little and keeps reconciliation simple.
extension Database {
    func uemChange<Result: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> Result) async throws -> Result {
        try await transaction { tx in
            if let sql = tx as? any SQLDatabase, sql.dialect.name == "postgresql" {
                try await sql.raw("SELECT pg_advisory_xact_lock(\(bind: UEMChangeLock.key))").run()
            }
            return try await body(tx)
        }
    }
}

enum UEMChangeLock {
    /// Arbitrary but fixed: "OMTDUEM" in ASCII, so it does not collide with other advisory locks.
    static let key: Int64 = 0x4F4D_5444_5545_4D
}
