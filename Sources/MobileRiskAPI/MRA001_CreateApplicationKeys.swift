import FluentKit

/// The Mobile Risk API's tables: application keys and the access tokens bought with them.
struct MRA001_CreateApplicationKeys: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ApplicationKeyModel.schema)
            .id()
            .field("enterprise_id", .uuid, .required)
            .field("name", .string, .required)
            .field("scopes", .string, .required)
            .field("key_hash", .string, .required)
            .field("created_by", .string, .required)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .field("revoked_at", .datetime)
            .field("last_used_at", .datetime)
            .field("warned_days", .int)
            .unique(on: "key_hash")
            .create()
        try await database.schema(AccessTokenModel.schema)
            .id()
            .field("key_id", .uuid, .required, .references(ApplicationKeyModel.schema, .id, onDelete: .cascade))
            .field("enterprise_id", .uuid, .required)
            .field("token_hash", .string, .required)
            .field("scopes", .string, .required)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .unique(on: "token_hash")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(AccessTokenModel.schema).delete()
        try await database.schema(ApplicationKeyModel.schema).delete()
    }
}
