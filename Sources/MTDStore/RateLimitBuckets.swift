import FluentKit
import Foundation
import SQLKit

/// Stored token buckets: `tokens` as of `updated_at`, refilled by the reader.
public enum RateLimitBuckets {
    public struct Bucket: Sendable {
        public var tokens: Double
        public var updatedAt: Date

        public init(tokens: Double, updatedAt: Date) {
            self.tokens = tokens
            self.updatedAt = updatedAt
        }
    }

    public static func find(scope: String, key: String, on database: any Database) async throws -> Bucket? {
        let sql = try ConsumerLeases.sqlDatabase(database)
        return try await sql.raw("SELECT tokens, updated_at FROM rate_limit_buckets WHERE scope = \(bind: scope) AND key = \(bind: key)")
            .first().map { Bucket(tokens: try $0.decode(column: "tokens", as: Double.self), updatedAt: try $0.decode(column: "updated_at", as: Date.self)) }
    }

    /// Reads the bucket for change inside the caller's transaction (locking its row on PostgreSQL,
    /// so two replicas spending from one bucket take turns).
    public static func lock(scope: String, key: String, on database: any Database) async throws -> Bucket? {
        let sql = try ConsumerLeases.sqlDatabase(database)
        let lock = sql.dialect.name == "postgresql" ? " FOR UPDATE" : ""
        return try await sql.raw("SELECT tokens, updated_at FROM rate_limit_buckets WHERE scope = \(bind: scope) AND key = \(bind: key)\(unsafeRaw: lock)")
            .first().map { Bucket(tokens: try $0.decode(column: "tokens", as: Double.self), updatedAt: try $0.decode(column: "updated_at", as: Date.self)) }
    }

    public static func store(scope: String, key: String, bucket: Bucket, on database: any Database) async throws {
        let sql = try ConsumerLeases.sqlDatabase(database)
        try await sql.raw("""
            INSERT INTO rate_limit_buckets (scope, key, tokens, updated_at) VALUES (\(bind: scope), \(bind: key), \(bind: bucket.tokens), \(bind: bucket.updatedAt))
            ON CONFLICT (scope, key) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at
            """).run()
    }

    /// Drops buckets untouched since `before` (they are full again by then).
    public static func prune(scope: String, before: Date, on database: any Database) async throws {
        let sql = try ConsumerLeases.sqlDatabase(database)
        try await sql.raw("DELETE FROM rate_limit_buckets WHERE scope = \(bind: scope) AND updated_at < \(bind: before)").run()
    }
}
