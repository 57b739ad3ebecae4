import FluentKit

struct M002_CreateEnrollmentCodes: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(EnrollmentCodeModel.schema)
            .id()
            .field("enterprise_id", .uuid, .required, .references(EnterpriseModel.schema, .id))
            .field("code", .string, .required)
            .field("expires_at", .datetime)
            .field("revoked_at", .datetime)
            .field("created_at", .datetime)
            .unique(on: "code")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(EnrollmentCodeModel.schema).delete()
    }
}
