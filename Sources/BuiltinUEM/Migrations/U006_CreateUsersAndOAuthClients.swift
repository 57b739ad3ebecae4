import Fluent
import SQLKit

struct U006_CreateUsersAndOAuthClients: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(UEMUser.schema)
            .field("id", .int, .identifier(auto: true))
            .field("uuid", .uuid, .required)
            .field("username", .string, .required)
            .field("email", .string)
            .field("first_name", .string)
            .field("last_name", .string)
            .field("organization_group_id", .int, .required)
            .field("status", .string, .required)
            .unique(on: "username")
            .create()
        try await database.schema(UEMOAuthClient.schema)
            .field("id", .int, .identifier(auto: true))
            .field("name", .string, .required)
            .field("client_id", .string, .required)
            .field("secret_hash", .string, .required)
            .field("organization_group_id", .int, .required)
            .field("role_id", .int, .required)
            .unique(on: "client_id")
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.raw("ALTER TABLE uem_devices ADD COLUMN enrollment_user_id INTEGER").run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema(UEMDevice.schema).deleteField("enrollment_user_id").update()
        try await database.schema(UEMOAuthClient.schema).delete()
        try await database.schema(UEMUser.schema).delete()
    }
}
