import FluentKit
import SQLKit

/// The console's fleet-wide app inventory counts each app's versions: an index holding them spares
/// reading the table (half a million rows for 10,000 devices).
struct M013_IndexAppInventory: AsyncMigration {
    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "device_apps_inventory").on(DeviceAppModel.schema)
            .column("enterprise_id").column("app_id").column("version").run()
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.drop(index: "device_apps_inventory").run()
    }
}
