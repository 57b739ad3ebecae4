import FluentKit

/// The credential a UEM presents when it posts Workspace ONE event notifications to OpenMTD
/// (`POST /api/v1/integrations/uem/notifications`, Basic auth): one per enterprise, only its hash
/// stored, replaced when an owner asks for a new one.
public struct M024_CreateUEMNotificationCredentials: AsyncMigration {
    public init() {}

    public func prepare(on database: any Database) async throws {
        try await database.schema("uem_notification_credentials")
            .id()
            .field("enterprise_id", .uuid, .required, .references("enterprises", "id", onDelete: .cascade))
            .field("password_hash", .string, .required)
            .field("created_at", .datetime, .required)
            .field("last_used_at", .datetime)
            .unique(on: "enterprise_id")
            .create()
    }

    public func revert(on database: any Database) async throws {
        try await database.schema("uem_notification_credentials").delete()
    }
}
