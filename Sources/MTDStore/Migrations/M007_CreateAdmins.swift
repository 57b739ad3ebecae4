import FluentKit

struct M007_CreateAdmins: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(AdminModel.schema)
            .id()
            .field("enterprise_id", .uuid, .required, .references(EnterpriseModel.schema, .id))
            .field("email", .string, .required)
            .field("password_hash", .string, .required)
            .field("role", .string, .required)
            .field("created_at", .datetime)
            .unique(on: "email")
            .create()
        try await database.schema(APITokenModel.schema)
            .id()
            .field("admin_id", .uuid, .required, .references(AdminModel.schema, .id, onDelete: .cascade))
            .field("token_hash", .string, .required)
            .field("name", .string, .required)
            .field("scopes", .string, .required)
            .field("kind", .string, .required)
            .field("expires_at", .datetime)
            .field("created_at", .datetime)
            .unique(on: "token_hash")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(APITokenModel.schema).delete()
        try await database.schema(AdminModel.schema).delete()
    }
}
