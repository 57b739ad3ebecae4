import FluentKit

/// Token buckets of the rate limiters (failed activations and logins per client address), shared by
/// every replica on the database so that a guesser gains nothing from a load balancer.
public struct M016_CreateRateLimitBuckets: AsyncMigration {
    public init() {}

    public func prepare(on database: any Database) async throws {
        try await database.schema("rate_limit_buckets")
            .field("scope", .string, .required)
            .field("key", .string, .required)
            .field("tokens", .double, .required)
            .field("updated_at", .datetime, .required)
            .compositeIdentifier(over: "scope", "key")
            .create()
    }

    public func revert(on database: any Database) async throws {
        try await database.schema("rate_limit_buckets").delete()
    }
}
