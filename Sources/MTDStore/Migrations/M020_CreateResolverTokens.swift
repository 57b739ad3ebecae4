import FluentKit
import SQLKit

/// Resolver tokens: the per-device secret in a DoH path (`/dns-query/{token}`) or a DoT server
/// name (`{token}.HOST`) that attributes a device's DNS queries to it. A device has at most one
/// active token; reactivation revokes it and issues another, deactivation revokes it. A revoked
/// token keeps resolving for its enterprise, unattributed, so a phone whose DNS profile the UEM has
/// not yet replaced keeps working and protected.
public struct M020_CreateResolverTokens: AsyncMigration {
    public init() {}

    public func prepare(on database: any Database) async throws {
        try await database.schema("resolver_tokens")
            .id()
            .field("token", .string, .required)
            .field("device_id", .uuid, .required, .references("devices", "id", onDelete: .cascade))
            .field("enterprise_id", .uuid, .required, .references("enterprises", "id", onDelete: .cascade))
            .field("created_at", .datetime, .required)
            .field("revoked_at", .datetime)
            .unique(on: "token")
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "resolver_tokens_device").on("resolver_tokens").column("device_id").run()
    }

    public func revert(on database: any Database) async throws {
        try await database.schema("resolver_tokens").delete()
    }
}
