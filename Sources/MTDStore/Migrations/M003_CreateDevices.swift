import FluentKit
import SQLKit

struct M003_CreateDevices: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(DeviceModel.schema)
            .id()
            .field("enterprise_id", .uuid, .required, .references(EnterpriseModel.schema, .id))
            .field("external_id", .string)
            .field("udid", .string)
            .field("email", .string)
            .field("mdm", .string)
            .field("platform", .string, .required)
            .field("mode", .string)
            .field("activation_status", .string, .required)
            .field("connection_status", .string, .required)
            .field("security_status", .string, .required)
            .field("credential_hash", .string)
            .field("os_version", .string)
            .field("model", .string)
            .field("manufacturer", .string)
            .field("security_patch_level", .string)
            .field("agent_version", .string)
            .field("inventory_version", .int)
            .field("last_facts", .string)
            .field("last_check_in_at", .datetime)
            .field("activated_at", .datetime)
            .field("policy_version", .int)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "devices_credential").on(DeviceModel.schema).column("credential_hash").run()
        try await sql.create(index: "devices_enterprise_udid").on(DeviceModel.schema).column("enterprise_id").column("udid").run()
        try await sql.create(index: "devices_enterprise_external").on(DeviceModel.schema).column("enterprise_id").column("external_id").run()
        try await sql.create(index: "devices_connection").on(DeviceModel.schema).column("connection_status").column("last_check_in_at").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(DeviceModel.schema).delete()
    }
}
