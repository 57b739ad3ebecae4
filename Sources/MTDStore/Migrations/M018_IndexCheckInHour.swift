import FluentKit
import SQLKit

/// The check-in indexes hold the hour of the last check-in instead of its exact time.
///
/// Every check-in writes `last_check_in_at`. While that column was indexed (the connection sweep,
/// the device list), PostgreSQL could never update a device row in place (a HOT update): each
/// check-in wrote a new row version and an entry in all six device indexes, measured as 0 HOT
/// updates out of 17,287. The hour changes once an hour, so most check-ins now leave every indexed
/// column as it was. Queries filter and sort by the hour first and the exact time second.
public struct M018_IndexCheckInHour: AsyncMigration {
    public init() {}

    public func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw("ALTER TABLE devices ADD COLUMN last_check_in_hour BIGINT").run()
        if sql.dialect.name == "postgresql" {
            try await sql.raw("UPDATE devices SET last_check_in_hour = floor(extract(epoch FROM last_check_in_at) / 3600) WHERE last_check_in_at IS NOT NULL").run()
            // Room on each page for the new version of a row, which HOT updates need.
            try await sql.raw("ALTER TABLE devices SET (fillfactor = 80)").run()
        } else {
            // SQLite holds times as seconds since 1970.
            try await sql.raw("UPDATE devices SET last_check_in_hour = CAST(last_check_in_at / 3600 AS INTEGER) WHERE last_check_in_at IS NOT NULL").run()
        }
        try await sql.drop(index: "devices_connection").run()
        try await sql.drop(index: "devices_enterprise_checkin").run()
        try await sql.create(index: "devices_connection_hour").on(DeviceModel.schema).column("connection_status").column("last_check_in_hour").run()
        try await sql.create(index: "devices_enterprise_checkin_hour").on(DeviceModel.schema).column("enterprise_id").column("last_check_in_hour").run()
    }

    public func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.drop(index: "devices_connection_hour").run()
        try await sql.drop(index: "devices_enterprise_checkin_hour").run()
        try await sql.create(index: "devices_connection").on(DeviceModel.schema).column("connection_status").column("last_check_in_at").run()
        try await sql.create(index: "devices_enterprise_checkin").on(DeviceModel.schema).column("enterprise_id").column("last_check_in_at").run()
        try await sql.raw("ALTER TABLE devices DROP COLUMN last_check_in_hour").run()
    }
}
