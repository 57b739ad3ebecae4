import FluentKit
import Foundation
@testable import MTDServer
import MTDStore
import SQLKit
import Testing

/// The event log keeps its retention and no more, but never removes what a consumer has not read.
@Suite(.serialized) struct EventRetentionTests {
    @Test(arguments: TestDatabase.available)
    func oldEventsGoOnceEveryConsumerHasReadThem(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let db = server.app.db
            let now = Date()
            let old = (0..<25_000).map { index in
                EventLog.Entry(enterpriseID: server.enterpriseID, createdAt: now.addingTimeInterval(-40 * 86_400 + Double(index)), event: EventLog.NewEvent(
                    type: .audit, change: .updated, actor: .system, target: EventParty(type: "ENTERPRISE", guid: nil),
                    payload: AuditPayload(type: "OLD", changes: [])))
            }
            try await db.transaction { tx in try await EventLog.append(old, on: tx) }
            let recent = EventLog.Entry(enterpriseID: server.enterpriseID, createdAt: now, event: EventLog.NewEvent(
                type: .audit, change: .updated, actor: .system, target: EventParty(type: "ENTERPRISE", guid: nil), payload: AuditPayload(type: "NEW", changes: [])))
            try await db.transaction { tx in try await EventLog.append([recent], on: tx) }
            let head = try await EventLog.head(on: db)
            let oldIDs = try await EventLog.rows(after: 0, enterpriseID: server.enterpriseID, limit: 100_000, on: db)
                .filter { $0.payload.contains("\"OLD\"") }.map(\.id)
            #expect(oldIDs.count == 25_000)

            // The server's own consumers catch up first (they read the whole log).
            for _ in 0..<200 {
                let cursors = try await ConsumerCursorModel.query(on: db).all()
                if !cursors.isEmpty, cursors.allSatisfy({ $0.position >= head }) { break }
                try await Task.sleep(nanoseconds: 100_000_000)
            }
            // A consumer that has read only part of the old events holds the rest back.
            let holdAt = try #require(oldIDs.first) + 12_000
            try await ConsumerCursors.save("slow-consumer", position: holdAt, on: db)
            let writes = server.app.mtd.writes
            _ = try await EventRetention.compact(days: 30, now: now, writes: writes, on: db)
            let afterFirst = try await EventLog.rows(after: 0, enterpriseID: server.enterpriseID, limit: 100_000, on: db)
            #expect(!afterFirst.contains { $0.id <= holdAt && $0.payload.contains("\"OLD\"") }, "read by every consumer: gone")
            #expect(afterFirst.filter { $0.payload.contains("\"OLD\"") }.count == oldIDs.filter { $0 > holdAt }.count, "not yet read: kept")

            // Once it has read everything, everything past the retention goes; the recent event stays.
            for consumer in try await ConsumerCursorModel.query(on: db).all() {
                consumer.position = head
                try await consumer.update(on: db)
            }
            _ = try await EventRetention.compact(days: 30, now: now, writes: writes, on: db)
            let left = try await EventLog.rows(after: 0, enterpriseID: server.enterpriseID, limit: 100_000, on: db)
            #expect(!left.contains { $0.payload.contains("\"OLD\"") })
            #expect(left.contains { $0.payload.contains("\"NEW\"") })
            #expect(try await EventLog.head(on: db) == head, "ids never go back")
        }
    }
}
