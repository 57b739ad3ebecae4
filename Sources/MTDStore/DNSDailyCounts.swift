import Foundation
import SQLKit

/// Reads and adds to `dns_daily_counts` (M022) in SQL both SQLite and PostgreSQL accept.
public enum DNSDailyCounts {
    public struct Key: Hashable, Sendable {
        public var enterpriseID: UUID
        public var day: Int
        public var classification: String
        public var verdict: String

        public init(enterpriseID: UUID, day: Int, classification: String, verdict: String) {
            self.enterpriseID = enterpriseID
            self.day = day
            self.classification = classification
            self.verdict = verdict
        }
    }

    /// Adds each count to its row, creating the row the first time.
    public static func add(_ counts: [Key: Int], on sql: any SQLDatabase) async throws {
        for (key, count) in counts where count > 0 {
            try await sql.raw("""
                INSERT INTO dns_daily_counts (id, enterprise_id, day, classification, verdict, count)
                VALUES (\(bind: UUID()), \(bind: key.enterpriseID), \(bind: key.day), \(bind: key.classification), \(bind: key.verdict), \(bind: Int64(count)))
                ON CONFLICT (enterprise_id, day, classification, verdict) DO UPDATE SET count = dns_daily_counts.count + excluded.count
                """).run()
        }
    }

    /// Blocks per day for an enterprise from `firstDay` on (all classes), by day.
    public static func blocks(enterpriseID: UUID, from firstDay: Int, verdict: String = "BLOCK", on sql: any SQLDatabase) async throws -> [Int: Int] {
        struct Row: Decodable {
            var day: Int
            var n: Int64
        }
        let rows = try await sql.raw("""
            SELECT day, CAST(SUM(count) AS BIGINT) AS n FROM dns_daily_counts
            WHERE enterprise_id = \(bind: enterpriseID) AND day >= \(bind: firstDay) AND verdict = \(bind: verdict) GROUP BY day
            """).all(decoding: Row.self)
        return Dictionary(rows.map { ($0.day, Int(clamping: $0.n)) }, uniquingKeysWith: +)
    }

    public static func deleteBefore(day: Int, on sql: any SQLDatabase) async throws {
        try await sql.raw("DELETE FROM dns_daily_counts WHERE day < \(bind: day)").run()
    }
}
