import FluentKit
import SQLKit

/// The UEM's numeric device id (bulk tag calls use it) and the tags the UEM confirmed per device.
struct M011_AddUEMLinks: AsyncMigration {
    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw("ALTER TABLE devices ADD COLUMN uem_device_id INTEGER").run()
        try await database.schema("uem_applied_tags")
            .id()
            .field("device_id", .uuid, .required, .references(DeviceModel.schema, .id, onDelete: .cascade))
            .field("tag_name", .string, .required)
            .field("applied_at", .datetime, .required)
            .unique(on: "device_id", "tag_name")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("uem_applied_tags").delete()
        try await database.schema(DeviceModel.schema).deleteField("uem_device_id").update()
    }
}
