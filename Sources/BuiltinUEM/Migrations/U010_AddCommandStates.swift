import Fluent

/// When a queued command reached the device and when the device reported it done.
struct U010_AddCommandStates: AsyncMigration {
    func prepare(on database: any Database) async throws {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        try await database.schema(UEMDeviceCommand.schema).field("delivered_at", .datetime).update()
        try await database.schema(UEMDeviceCommand.schema).field("completed_at", .datetime).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(UEMDeviceCommand.schema).deleteField("completed_at").update()
        try await database.schema(UEMDeviceCommand.schema).deleteField("delivered_at").update()
    }
}
