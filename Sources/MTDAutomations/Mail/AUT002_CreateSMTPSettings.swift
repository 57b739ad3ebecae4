import FluentKit

/// The enterprise's SMTP relay for e-mail actions.
struct AUT002_CreateSMTPSettings: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(SMTPSettingsModel.schema)
            .id()
            .field("enterprise_id", .uuid, .required)
            .field("document", .string, .required)
            .field("updated_at", .datetime, .required)
            .field("updated_by", .string, .required)
            .unique(on: "enterprise_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(SMTPSettingsModel.schema).delete()
    }
}
