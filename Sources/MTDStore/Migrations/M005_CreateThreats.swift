import FluentKit
import SQLKit

struct M005_CreateThreats: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ThreatModel.schema)
            .id()
            .field("enterprise_id", .uuid, .required)
            .field("device_id", .uuid, .required, .references(DeviceModel.schema, .id, onDelete: .cascade))
            .field("classification", .string, .required)
            .field("subject", .string, .required)
            .field("type", .string, .required)
            .field("severity", .string, .required)
            .field("status", .string, .required)
            .field("fingerprint", .string, .required)
            .field("evidence", .string, .required)
            .field("detected_at", .datetime, .required)
            .field("resolved_at", .datetime)
            .field("status_reason", .string)
            .field("updated_at", .datetime)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "threats_device_status").on(ThreatModel.schema).column("device_id").column("status").run()
        try await sql.create(index: "threats_enterprise_status").on(ThreatModel.schema).column("enterprise_id").column("status").column("classification").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ThreatModel.schema).delete()
    }
}
