import FluentKit
import Foundation
import Logging
import MTDServices
import MTDStore
import NIOConcurrencyHelpers
import ProtectiveDNS
import SQLKit

/// The per-device query log, for enterprises whose policy turns it on (`protectiveDNS.queryLogDays`):
/// the resolver hands each query of an attributed device here (the name and type asked, never a
/// URL), they are written in batches at each flush, and entries older than the policy's days, or
/// all of an enterprise's once its policy turns the log off, are deleted by the retention pass.
final class DNSQueryLogWriter: Sendable {
    private let buffer = NIOLockedValueBox<[DNSQueryLog.Entry]>([])
    /// Entries dropped because the database fell behind, since the start (shown in the log).
    private let dropped = NIOLockedValueBox(0)
    private let writes: WriteGate
    private let database: @Sendable () -> any Database
    private let logger = Logger(label: "openmtd.dns.querylog")
    /// Entries waiting at most: beyond this a query is not logged, rather than memory growing.
    static let capacity = 100_000

    init(writes: WriteGate, database: @escaping @Sendable () -> any Database) {
        self.writes = writes
        self.database = database
    }

    /// On the resolver's hot path: an append under a lock.
    func record(_ query: DNSQueryRecord, now: Date = Date()) {
        guard let deviceID = query.client.deviceID else { return }
        let action = switch query.decision.verdict {
        case .allow: "ALLOW"
        case .block: "BLOCK"
        case .logOnly: "LOG_ONLY"
        }
        let entry = DNSQueryLog.Entry(enterpriseID: query.client.enterpriseID, deviceID: deviceID, askedAt: now, name: query.host,
                                      type: query.type.description, action: action, classification: query.decision.classification?.rawValue,
                                      indicator: query.decision.indicator)
        let kept = buffer.withLockedValue { buffer in
            guard buffer.count < Self.capacity else { return false }
            buffer.append(entry)
            return true
        }
        if !kept { dropped.withLockedValue { $0 += 1 } }
    }

    /// Writes what was collected; on failure the entries are kept for the next flush (within capacity).
    func flush() async throws {
        let batch = buffer.withLockedValue { buffer in
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }
        let lost = dropped.withLockedValue { count in
            defer { count = 0 }
            return count
        }
        if lost > 0 { logger.warning("query log entries dropped: the database fell behind", metadata: ["entries": "\(lost)"]) }
        guard !batch.isEmpty, let sql = database() as? any SQLDatabase else { return }
        do {
            try await writes.run { try await DNSQueryLog.add(batch, on: sql) }
        } catch {
            buffer.withLockedValue { buffer in buffer = Array((batch + buffer).prefix(Self.capacity)) }
            throw error
        }
    }

    /// Deletes entries past each enterprise's retention; returns how many.
    @discardableResult
    func purge(policies: PolicyService, now: Date = Date()) async throws -> Int {
        let database = self.database()
        guard let sql = database as? any SQLDatabase else { return 0 }
        var deleted = 0
        for enterprise in try await EnterpriseModel.query(on: database).all() {
            guard let enterpriseID = enterprise.id else { continue }
            let days = try await policies.current(for: enterpriseID, on: database, now: now).engine.protectiveDNSRules.queryLogDays
            let cutoff = days.map { now.addingTimeInterval(-Double($0) * 86_400) }
            deleted += try await writes.run { try await DNSQueryLog.deleteBefore(cutoff, enterpriseID: enterpriseID, on: sql) }
        }
        return deleted
    }
}
