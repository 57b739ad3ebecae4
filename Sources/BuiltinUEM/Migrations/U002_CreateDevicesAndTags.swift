import Fluent

struct U002_CreateDevicesAndTags: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(UEMDevice.schema)
            .field("id", .int, .identifier(auto: true))
            .field("uuid", .uuid, .required)
            .field("udid", .string, .required)
            .field("serial_number", .string)
            .field("mac_address", .string)
            .field("imei", .string)
            .field("friendly_name", .string, .required)
            .field("model", .string)
            .field("platform", .string, .required)
            .field("operating_system", .string)
            .field("ownership", .string, .required)
            .field("organization_group_id", .int, .required)
            .field("user_name", .string, .required)
            .field("user_email", .string)
            .field("enrollment_status", .string, .required)
            .field("last_seen", .datetime)
            .field("compliance_status", .string, .required)
            .field("compromised", .bool, .required)
            .field("mtd_threat_level", .string)
            .field("enrolled_on", .datetime)
            .unique(on: "udid")
            .create()
        try await database.schema(UEMTag.schema)
            .field("id", .int, .identifier(auto: true))
            .field("uuid", .uuid, .required)
            .field("name", .string, .required)
            .field("avatar", .string, .required)
            .field("type", .int, .required)
            .field("organization_group_id", .int, .required)
            .unique(on: "name", "organization_group_id")
            .create()
        try await database.schema(UEMDeviceTag.schema)
            .field("id", .int, .identifier(auto: true))
            .field("tag_id", .int, .required)
            .field("device_id", .int, .required)
            .field("date_tagged", .datetime, .required)
            .unique(on: "tag_id", "device_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        for schema in [UEMDeviceTag.schema, UEMTag.schema, UEMDevice.schema] {
            try await database.schema(schema).delete()
        }
    }
}
