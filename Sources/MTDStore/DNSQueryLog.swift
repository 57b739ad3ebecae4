import Foundation
import SQLKit

/// Reads and writes `dns_query_log` (M023) in SQL both SQLite and PostgreSQL accept.
public enum DNSQueryLog {
    public struct Entry: Sendable, Equatable, Codable {
        public var enterpriseID: UUID
        public var deviceID: UUID
        public var askedAt: Date
        public var name: String
        public var type: String
        /// ALLOW, BLOCK or LOG_ONLY.
        public var action: String
        public var classification: String?
        public var indicator: String?

        public init(enterpriseID: UUID, deviceID: UUID, askedAt: Date, name: String, type: String, action: String,
                    classification: String? = nil, indicator: String? = nil) {
            self.enterpriseID = enterpriseID
            self.deviceID = deviceID
            self.askedAt = askedAt
            self.name = name
            self.type = type
            self.action = action
            self.classification = classification
            self.indicator = indicator
        }
    }

    /// Rows per INSERT: well under SQLite's 32,766 bound parameters (9 a row).
    static let batch = 500

    public static func add(_ entries: [Entry], on sql: any SQLDatabase) async throws {
        var start = 0
        while start < entries.count {
            let end = min(entries.count, start + batch)
            var insert = sql.insert(into: "dns_query_log")
                .columns("id", "enterprise_id", "device_id", "asked_at", "name", "type", "action", "classification", "indicator")
            for entry in entries[start..<end] {
                insert = insert.values(SQLBind(UUID()), SQLBind(entry.enterpriseID), SQLBind(entry.deviceID), SQLBind(entry.askedAt), SQLBind(entry.name),
                                       SQLBind(entry.type), SQLBind(entry.action), SQLBind(entry.classification), SQLBind(entry.indicator))
            }
            try await insert.run()
            start = end
        }
    }

    /// A device's queries, newest first, before `before` (exclusive) when given.
    public static func list(deviceID: UUID, enterpriseID: UUID, before: Date?, limit: Int, on sql: any SQLDatabase) async throws -> [Entry] {
        struct Row: Decodable {
            var enterprise_id: UUID
            var device_id: UUID
            var asked_at: Date
            var name: String
            var type: String
            var action: String
            var classification: String?
            var indicator: String?
        }
        var query = sql.select().columns("enterprise_id", "device_id", "asked_at", "name", "type", "action", "classification", "indicator")
            .from("dns_query_log")
            .where("device_id", .equal, SQLBind(deviceID)).where("enterprise_id", .equal, SQLBind(enterpriseID))
        if let before { query = query.where("asked_at", .lessThan, SQLBind(before)) }
        let rows = try await query.orderBy("asked_at", .descending).limit(limit).all(decoding: Row.self)
        return rows.map {
            Entry(enterpriseID: $0.enterprise_id, deviceID: $0.device_id, askedAt: $0.asked_at, name: $0.name, type: $0.type, action: $0.action,
                  classification: $0.classification, indicator: $0.indicator)
        }
    }

    /// Deletes an enterprise's entries asked before `cutoff` (all of them with nil: the log is off).
    @discardableResult
    public static func deleteBefore(_ cutoff: Date?, enterpriseID: UUID, on sql: any SQLDatabase) async throws -> Int {
        struct Count: Decodable { var n: Int64 }
        var count = sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("dns_query_log")
            .where("enterprise_id", .equal, SQLBind(enterpriseID))
        if let cutoff { count = count.where("asked_at", .lessThan, SQLBind(cutoff)) }
        let doomed = Int(try await count.first(decoding: Count.self)?.n ?? 0)
        guard doomed > 0 else { return 0 }
        var delete = sql.delete(from: "dns_query_log").where("enterprise_id", .equal, SQLBind(enterpriseID))
        if let cutoff { delete = delete.where("asked_at", .lessThan, SQLBind(cutoff)) }
        try await delete.run()
        return doomed
    }
}
