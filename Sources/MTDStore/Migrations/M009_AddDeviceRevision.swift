import FluentKit
import SQLKit

/// Devices get a revision, bumped by every change to their state or threats, so that a check-in that
/// changes nothing can commit with one conditional update (optimistic concurrency).
struct M009_AddDeviceRevision: AsyncMigration {
    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw("ALTER TABLE devices ADD COLUMN revision INTEGER NOT NULL DEFAULT 0").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(DeviceModel.schema).deleteField("revision").update()
    }
}
