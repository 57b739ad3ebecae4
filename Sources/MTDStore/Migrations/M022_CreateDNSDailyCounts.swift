import FluentKit
import SQLKit

/// `dns_daily_counts`: the protective resolver's aggregate counters per enterprise, day (days
/// since 1970, UTC), class and verdict (BLOCK or LOG_ONLY). They are what the resolver keeps by
/// default (no per-device query log) and feed the dashboard's blocks over time. One row per key,
/// added to with an upsert at each flush; rows older than 400 days are deleted.
public struct M022_CreateDNSDailyCounts: AsyncMigration {
    public init() {}

    public func prepare(on database: any Database) async throws {
        try await database.schema("dns_daily_counts")
            .id()
            .field("enterprise_id", .uuid, .required, .references("enterprises", "id", onDelete: .cascade))
            .field("day", .int, .required)
            .field("classification", .string, .required)
            .field("verdict", .string, .required)
            .field("count", .int64, .required)
            .unique(on: "enterprise_id", "day", "classification", "verdict")
            .create()
    }

    public func revert(on database: any Database) async throws {
        try await database.schema("dns_daily_counts").delete()
    }
}
