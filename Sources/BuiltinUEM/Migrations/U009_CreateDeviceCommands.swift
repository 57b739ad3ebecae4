import Fluent
import SQLKit

/// Device commands and messages (`/API/mdm/devices/{id}/commands`, `/messages/push`).
struct U009_CreateDeviceCommands: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(UEMDeviceCommand.schema)
            .field("id", .int, .identifier(auto: true))
            .field("device_id", .int, .required)
            .field("command", .string, .required)
            .field("status", .string, .required)
            .field("detail", .string)
            .field("queued_by", .string, .required)
            .field("queued_at", .datetime, .required)
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.create(index: "uem_device_commands_device").on(UEMDeviceCommand.schema).column("device_id").run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema(UEMDeviceCommand.schema).delete()
    }
}
