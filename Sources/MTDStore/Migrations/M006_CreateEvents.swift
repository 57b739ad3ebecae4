import FluentKit
import SQLKit

struct M006_CreateEvents: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(EventModel.schema)
            .field("id", .int64, .identifier(auto: true))
            .field("enterprise_id", .uuid, .required)
            .field("type", .string, .required)
            .field("change_type", .string, .required)
            .field("created_at", .datetime, .required)
            .field("actor_type", .string, .required)
            .field("actor_id", .string)
            .field("target_type", .string, .required)
            .field("target_id", .string, .required)
            .field("payload", .string, .required)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "events_enterprise_type").on(EventModel.schema).column("enterprise_id").column("type").column("id").run()
        try await database.schema(ConsumerCursorModel.schema)
            .field("name", .string, .identifier(auto: false))
            .field("position", .int64, .required)
            .field("updated_at", .datetime)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ConsumerCursorModel.schema).delete()
        try await database.schema(EventModel.schema).delete()
    }
}
