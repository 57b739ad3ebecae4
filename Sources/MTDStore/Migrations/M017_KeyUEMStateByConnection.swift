import FluentKit
import SQLKit

/// Per-device UEM state belongs to one UEM connection: a device's UEM id and reported threat level
/// carry the connection they came from (`devices.uem_connection`), and confirmed tags move to
/// `uem_connection_tags`, keyed by connection. Switching to another UEM then starts clean: nothing
/// recorded against the old one is sent to, or believed of, the new one. Rows from before are
/// copied with an empty connection, which the next connection adopts (they were made with it).
public struct M017_KeyUEMStateByConnection: AsyncMigration {
    public init() {}

    public func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw("ALTER TABLE devices ADD COLUMN uem_connection TEXT").run()
        try await sql.raw("UPDATE devices SET uem_connection = '' WHERE uem_device_id IS NOT NULL").run()
        try await database.schema(AppliedTagModel.schema)
            .id()
            .field("connection", .string, .required)
            .field("device_id", .uuid, .required, .references(DeviceModel.schema, .id, onDelete: .cascade))
            .field("tag_name", .string, .required)
            .field("applied_at", .datetime, .required)
            .unique(on: "connection", "device_id", "tag_name")
            .create()
        try await sql.raw("""
            INSERT INTO uem_connection_tags (id, connection, device_id, tag_name, applied_at)
            SELECT id, '', device_id, tag_name, applied_at FROM uem_applied_tags
            """).run()
        try await database.schema("uem_applied_tags").delete()
    }

    public func revert(on database: any Database) async throws {
        try await database.schema(AppliedTagModel.schema).delete()
        try await database.schema(DeviceModel.schema).deleteField("uem_connection").update()
    }
}
