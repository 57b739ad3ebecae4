import FluentKit

struct M008_CreatePolicyVersions: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(PolicyVersionModel.schema)
            .id()
            .field("enterprise_id", .uuid, .required, .references(EnterpriseModel.schema, .id))
            .field("version", .int, .required)
            .field("document", .string, .required)
            .field("created_by", .string)
            .field("created_at", .datetime)
            .unique(on: "enterprise_id", "version")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(PolicyVersionModel.schema).delete()
    }
}
