import Fluent

struct U004_CreateCompliance: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(UEMCompliancePolicy.schema)
            .field("id", .int, .identifier(auto: true))
            .field("uuid", .uuid, .required)
            .field("name", .string, .required)
            .field("platform", .string, .required)
            .field("organization_group_id", .int, .required)
            .field("assigned_smart_groups", .string, .required)
            .field("definition", .string, .required)
            .field("active", .bool, .required)
            .unique(on: "name")
            .create()
        try await database.schema(UEMDeviceCompliance.schema)
            .field("id", .int, .identifier(auto: true))
            .field("device_id", .int, .required)
            .field("policy_id", .int, .required)
            .field("compliant", .bool, .required)
            .field("checked_at", .datetime, .required)
            .field("actions_taken", .string, .required)
            .unique(on: "device_id", "policy_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(UEMDeviceCompliance.schema).delete()
        try await database.schema(UEMCompliancePolicy.schema).delete()
    }
}
