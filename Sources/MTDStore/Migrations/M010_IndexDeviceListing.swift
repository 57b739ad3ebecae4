import FluentKit
import SQLKit

/// The device list sorts by last check-in within an enterprise.
struct M010_IndexDeviceListing: AsyncMigration {
    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "devices_enterprise_checkin").on(DeviceModel.schema).column("enterprise_id").column("last_check_in_at").run()
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.drop(index: "devices_enterprise_checkin").run()
    }
}
