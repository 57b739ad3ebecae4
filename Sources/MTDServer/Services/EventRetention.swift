import FluentKit
import Foundation
import Logging
import MTDServices
import MTDStore

/// Compacts the event log: events older than the retention (default 30 days) that every durable
/// consumer has processed are removed, hourly (the first time 10 minutes after start), in batches so that no write waits long behind it.
/// Every replica runs it; deleting what another already deleted costs nothing.
enum EventRetention {
    static let logger = Logger(label: "openmtd.event-retention")
    static let batch = 10_000

    static func run(days: Int, writes: WriteGate, database: @escaping @Sendable () -> any Database) async {
        // Not at boot: a restart under load has better things to do, and the log can wait minutes.
        try? await Task.sleep(nanoseconds: 600_000_000_000)
        while !Task.isCancelled {
            do {
                let removed = try await compact(days: days, now: Date(), writes: writes, on: database())
                if removed > 0 { logger.notice("event log compacted", metadata: ["events": "\(removed)", "retention_days": "\(days)"]) }
            } catch {
                logger.warning("could not compact the event log; retrying in an hour", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(nanoseconds: 3_600_000_000_000)
        }
    }

    /// One pass, a batch of ids per write (a long delete would hold SQLite's writer); returns how
    /// many event ids it covered.
    static func compact(days: Int, now: Date, writes: WriteGate, on database: any Database) async throws -> Int {
        let cutoff = now.addingTimeInterval(-Double(max(days, 10)) * 86_400)
        guard let range = try await EventLog.compactionRange(before: cutoff, on: database) else { return 0 }
        for start in stride(from: range.lowerBound, to: range.upperBound, by: batch) {
            if Task.isCancelled { break }
            let ids = start..<min(start + batch, range.upperBound)
            try await writes.run { try await EventLog.removeOld(ids, before: cutoff, on: database) }
        }
        return range.count
    }
}
