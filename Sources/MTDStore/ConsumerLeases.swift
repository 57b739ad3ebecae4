import FluentKit
import Foundation
import SQLKit

/// Database leases: at most one replica holds a consumer's lease at a time. The holder renews it
/// before it expires; when the holder dies, the row expires and another replica takes it.
///
/// On PostgreSQL lease times come from the database's clock, so replicas' clocks do not matter; on
/// SQLite (one machine) from the process's.
public enum ConsumerLeases {
    public struct Lease: Sendable, Equatable {
        public var name: String
        public var holder: String
        public var expiresAt: Date
        public var acquiredAt: Date
    }

    /// Takes or renews the lease for `holder` until `now + seconds`. Returns whether `holder` holds it.
    public static func acquire(_ name: String, holder: String, seconds: Double, now: Date, on database: any Database) async throws -> Bool {
        let sql = try sqlDatabase(database)
        // One statement, so two replicas racing for an expired lease cannot both win: the row
        // changes hands only while it is expired, and renewals only succeed for the holder.
        if sql.dialect.name == "postgresql" {
            // The database's clock, not the replicas': a replica whose clock is off cannot take a
            // lease early or keep one too long.
            let rows = try await sql.raw("""
                INSERT INTO consumer_leases (name, holder, expires_at, acquired_at)
                VALUES (\(bind: name), \(bind: holder), now() + make_interval(secs => \(bind: seconds)), now())
                ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
                  acquired_at = CASE WHEN consumer_leases.holder = excluded.holder THEN consumer_leases.acquired_at ELSE excluded.acquired_at END
                WHERE consumer_leases.holder = excluded.holder OR consumer_leases.expires_at < now()
                RETURNING holder
                """).all()
            return rows.count == 1
        }
        let expires = now.addingTimeInterval(seconds)
        let rows = try await sql.raw("""
            INSERT INTO consumer_leases (name, holder, expires_at, acquired_at) VALUES (\(bind: name), \(bind: holder), \(bind: expires), \(bind: now))
            ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
              acquired_at = CASE WHEN consumer_leases.holder = excluded.holder THEN consumer_leases.acquired_at ELSE excluded.acquired_at END
            WHERE consumer_leases.holder = excluded.holder OR consumer_leases.expires_at < \(bind: now)
            RETURNING holder
            """).all()
        return rows.count == 1
    }

    /// Gives the lease up (a clean shutdown), so another replica need not wait for it to expire.
    public static func release(_ name: String, holder: String, on database: any Database) async throws {
        let sql = try sqlDatabase(database)
        try await sql.raw("""
            UPDATE consumer_leases SET expires_at = \(bind: Date(timeIntervalSince1970: 0)) WHERE name = \(bind: name) AND holder = \(bind: holder)
            """).run()
    }

    /// Every lease row, for status pages and metrics.
    public static func all(on database: any Database) async throws -> [Lease] {
        let sql = try sqlDatabase(database)
        return try await sql.raw("SELECT name, holder, expires_at, acquired_at FROM consumer_leases ORDER BY name").all().map { row in
            Lease(
                name: try row.decode(column: "name", as: String.self), holder: try row.decode(column: "holder", as: String.self),
                expiresAt: try row.decode(column: "expires_at", as: Date.self), acquiredAt: try row.decode(column: "acquired_at", as: Date.self))
        }
    }

    static func sqlDatabase(_ database: any Database) throws -> any SQLDatabase {
        guard let sql = database as? any SQLDatabase else { throw EventLogError.notSQL }
        return sql
    }
}
