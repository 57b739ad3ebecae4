import FluentKit

/// Leases of event-log consumers that must run in one replica at a time (UEM sync, the connection
/// sweeper, policy re-evaluation): the holder renews its row; another replica takes the row over
/// once it has expired.
public struct M015_CreateConsumerLeases: AsyncMigration {
    public init() {}

    public func prepare(on database: any Database) async throws {
        try await database.schema("consumer_leases")
            .field("name", .string, .identifier(auto: false))
            .field("holder", .string, .required)
            .field("expires_at", .datetime, .required)
            .field("acquired_at", .datetime, .required)
            .create()
    }

    public func revert(on database: any Database) async throws {
        try await database.schema("consumer_leases").delete()
    }
}
