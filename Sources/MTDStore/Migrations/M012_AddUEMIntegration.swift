import FluentKit
import SQLKit

/// The threat level the UEM confirmed per device (compliance sync), and each enterprise's UEM
/// connection and tag mapping as an admin saved them.
struct M012_AddUEMIntegration: AsyncMigration {
    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw("ALTER TABLE devices ADD COLUMN uem_threat_level TEXT").run()
        try await database.schema(UEMIntegrationModel.schema)
            .id()
            .field("enterprise_id", .uuid, .required, .references(EnterpriseModel.schema, .id, onDelete: .cascade))
            .field("kind", .string, .required)
            .field("base_url", .string)
            .field("tenant_code", .string)
            .field("username", .string)
            .field("password", .string)
            .field("oauth_token_url", .string)
            .field("oauth_client_id", .string)
            .field("oauth_client_secret", .string)
            .field("tag_mapping", .string, .required)
            .field("create_missing_tags", .bool, .required)
            .field("updated_at", .datetime)
            .unique(on: "enterprise_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(UEMIntegrationModel.schema).delete()
        try await database.schema(DeviceModel.schema).deleteField("uem_threat_level").update()
    }
}
