import FluentKit

/// `resolver_tokens.last_query_at`: when the token last carried a query (written at most once a
/// minute per device). A device that checks in while its token stays silent has lost its DNS
/// profile; the policy's `silenceHours` turns that into PCP_DISABLED.
public struct M021_AddResolverLastQuery: AsyncMigration {
    public init() {}

    public func prepare(on database: any Database) async throws {
        try await database.schema("resolver_tokens").field("last_query_at", .datetime).update()
    }

    public func revert(on database: any Database) async throws {
        try await database.schema("resolver_tokens").deleteField("last_query_at").update()
    }
}
