import FluentKit
import SQLKit

/// `dns_query_log`: a device's own resolver queries (name, type, action, and the class and
/// indicator of a hit), kept only when the enterprise's policy sets `protectiveDNS.queryLogDays`
/// and for that many days. Rows go with their device.
public struct M023_CreateDNSQueryLog: AsyncMigration {
    public init() {}

    public func prepare(on database: any Database) async throws {
        try await database.schema("dns_query_log")
            .id()
            .field("enterprise_id", .uuid, .required, .references("enterprises", "id", onDelete: .cascade))
            .field("device_id", .uuid, .required, .references("devices", "id", onDelete: .cascade))
            .field("asked_at", .datetime, .required)
            .field("name", .string, .required)
            .field("type", .string, .required)
            .field("action", .string, .required)
            .field("classification", .string)
            .field("indicator", .string)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "dns_query_log_device_time").on("dns_query_log").column("device_id").column("asked_at").run()
        try await sql.create(index: "dns_query_log_enterprise_time").on("dns_query_log").column("enterprise_id").column("asked_at").run()
    }

    public func revert(on database: any Database) async throws {
        try await database.schema("dns_query_log").delete()
    }
}
