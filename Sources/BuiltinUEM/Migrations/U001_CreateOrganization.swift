import Fluent

struct U001_CreateOrganization: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(UEMOrganizationGroup.schema)
            .field("id", .int, .identifier(auto: true))
            .field("uuid", .uuid, .required)
            .field("name", .string, .required)
            .field("group_id", .string, .required)
            .field("parent_id", .int)
            .field("type", .string, .required)
            .field("created_at", .datetime)
            .unique(on: "group_id")
            .create()
        try await database.schema(UEMRole.schema)
            .field("id", .int, .identifier(auto: true))
            .field("uuid", .uuid, .required)
            .field("name", .string, .required)
            .field("permissions", .string, .required)
            .unique(on: "name")
            .create()
        try await database.schema(UEMAdmin.schema)
            .field("id", .int, .identifier(auto: true))
            .field("uuid", .uuid, .required)
            .field("username", .string, .required)
            .field("password_hash", .string, .required)
            .field("email", .string)
            .field("organization_group_id", .int, .required)
            .field("role_id", .int, .required)
            .unique(on: "username")
            .create()
        try await database.schema(UEMAPIKey.schema)
            .field("id", .int, .identifier(auto: true))
            .field("code", .string, .required)
            .field("name", .string, .required)
            .field("organization_group_id", .int, .required)
            .unique(on: "code")
            .create()
    }

    func revert(on database: any Database) async throws {
        for schema in [UEMAPIKey.schema, UEMAdmin.schema, UEMRole.schema, UEMOrganizationGroup.schema] {
            try await database.schema(schema).delete()
        }
    }
}
