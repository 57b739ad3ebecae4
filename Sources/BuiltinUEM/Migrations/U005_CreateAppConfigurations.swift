import Fluent

struct U005_CreateAppConfigurations: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(UEMAppConfiguration.schema)
            .field("id", .int, .identifier(auto: true))
            .field("uuid", .uuid, .required)
            .field("name", .string, .required)
            .field("kind", .string, .required)
            .field("application", .string)
            .field("platform", .string, .required)
            .field("organization_group_id", .int, .required)
            .field("assigned_smart_groups", .string, .required)
            .field("settings", .string, .required)
            .unique(on: "name")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(UEMAppConfiguration.schema).delete()
    }
}
