import Fluent

struct U003_CreateGroupsAndProfiles: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(UEMSmartGroup.schema)
            .field("id", .int, .identifier(auto: true))
            .field("uuid", .uuid, .required)
            .field("name", .string, .required)
            .field("organization_group_id", .int, .required)
            .field("criteria", .string, .required)
            .create()
        try await database.schema(UEMProfile.schema)
            .field("id", .int, .identifier(auto: true))
            .field("uuid", .uuid, .required)
            .field("name", .string, .required)
            .field("platform", .string, .required)
            .field("organization_group_id", .int, .required)
            .field("assigned_smart_groups", .string, .required)
            .field("excluded_smart_groups", .string, .required)
            .create()
        try await database.schema(UEMInstalledProfile.schema)
            .field("id", .int, .identifier(auto: true))
            .field("device_id", .int, .required)
            .field("profile_id", .int, .required)
            .field("installed_at", .datetime, .required)
            .unique(on: "device_id", "profile_id")
            .create()
        try await database.schema(UEMEvent.schema)
            .field("id", .int, .identifier(auto: true))
            .field("event_type", .string, .required)
            .field("device_id", .int, .required)
            .field("detail", .string)
            .field("event_time", .datetime, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        for schema in [UEMEvent.schema, UEMInstalledProfile.schema, UEMProfile.schema, UEMSmartGroup.schema] {
            try await database.schema(schema).delete()
        }
    }
}
