import FluentKit
import SQLKit

struct M004_CreateDeviceApps: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(DeviceAppModel.schema)
            .id()
            .field("device_id", .uuid, .required, .references(DeviceModel.schema, .id, onDelete: .cascade))
            .field("enterprise_id", .uuid, .required)
            .field("app_id", .string, .required)
            .field("name", .string)
            .field("version", .string)
            .field("source", .string)
            .field("signer_sha1", .string)
            .field("signer_sha256", .string)
            .field("sha256", .string)
            .field("permissions", .string)
            .unique(on: "device_id", "app_id")
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "device_apps_app").on(DeviceAppModel.schema).column("enterprise_id").column("app_id").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(DeviceAppModel.schema).delete()
    }
}
