import FluentKit

struct M001_CreateEnterprises: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(EnterpriseModel.schema)
            .id()
            .field("name", .string, .required)
            .field("created_at", .datetime)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(EnterpriseModel.schema).delete()
    }
}
