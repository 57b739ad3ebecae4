import Fluent

struct U007_CreateDeviceApps: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(UEMDeviceApp.schema)
            .field("id", .int, .identifier(auto: true))
            .field("device_id", .int, .required)
            .field("application_identifier", .string, .required)
            .field("name", .string, .required)
            .field("version", .string)
            .field("type", .string, .required)
            .field("reported_at", .datetime, .required)
            .unique(on: "device_id", "application_identifier")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(UEMDeviceApp.schema).delete()
    }
}
