import MTDServices
import FluentKit
import Foundation
import MTDStore

/// Commits prepared check-ins in groups: the check-ins that arrive while a commit is running go
/// together in the next transaction. On SQLite, where one writer holds the file at a time, that turns
/// a transaction (and a turn of the write gate) per check-in into one per group; on PostgreSQL it
/// saves commits and takes the event log's ordering lock once per group.
///
/// On SQLite, steady-state check-ins (nothing changed: only the check-in time and facts are
/// recorded) join the same groups, so a thousand of them a second take tens of write turns, not a
/// thousand.
///
/// Each check-in in a group is guarded by its device's revision: one whose device changed since it
/// was read (including by an earlier check-in of the same group) writes nothing and is answered
/// `false`, and its caller prepares it again. If a group fails for another reason, its check-ins
/// are committed one by one, so one bad check-in cannot fail its neighbours.
actor CheckInWriter {
    private let writes: WriteGate
    private var pending: [Item] = []
    private var draining = 0

    /// At most this many check-ins per transaction: bounds how long a group holds SQLite's writer.
    static let groupLimit = 64

    /// What one check-in writes.
    enum Work: Sendable {
        /// A check-in that changes the device, its inventory or its threats.
        case change(PreparedCheckIn)
        /// A steady-state check-in: the time, facts and policy version, if the device is still at `revision`.
        case touch(Touch)

        var deviceID: UUID? {
            switch self {
            case .change(let prepared): prepared.device.id
            case .touch(let touch): touch.deviceID
            }
        }
    }

    struct Touch: Sendable {
        var deviceID: UUID
        var revision: Int
        var now: Date
        var facts: String
        var policyVersion: Int
    }

    private struct Item {
        var work: Work
        var database: any Database
        var continuation: CheckedContinuation<Bool, any Error>
    }

    init(writes: WriteGate) {
        self.writes = writes
    }

    /// Commits `prepared`; false when its device changed since it was read.
    func commit(_ prepared: PreparedCheckIn, on database: any Database) async throws -> Bool {
        try await commit(.change(prepared), on: database)
    }

    /// Records a steady-state check-in; false when its device changed since it was read.
    ///
    /// On SQLite it joins a group: one write turn and one commit for many (880–940/s alone,
    /// 1,216–1,299/s grouped). On PostgreSQL it is a statement of its own: grouped, these held pooled
    /// connections across round trips and cost more than the commits they saved (582–670/s against
    /// 695–826/s).
    nonisolated func touch(_ touch: Touch, on database: any Database) async throws -> Bool {
        guard writes.serializer != nil else {
            return try await HotQueries.touchIfUnchanged(
                deviceID: touch.deviceID, revision: touch.revision, at: touch.now, facts: touch.facts, policyVersion: touch.policyVersion,
                on: database)
        }
        return try await commit(.touch(touch), on: database)
    }

    /// Commits `work`; false when its device changed since it was read.
    private func commit(_ work: Work, on database: any Database) async throws -> Bool {
        try await withCheckedThrowingContinuation { continuation in
            pending.append(Item(work: work, database: database, continuation: continuation))
            // SQLite commits one group at a time anyway (the write gate); PostgreSQL overlaps four.
            let parallel = writes.serializer == nil ? 4 : 1
            if draining < parallel {
                draining += 1
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            let group = Array(pending.prefix(Self.groupLimit))
            pending.removeFirst(group.count)
            await flush(group)
        }
        draining -= 1
    }

    private func flush(_ group: [Item]) async {
        // Devices in one order in every group, so two groups on PostgreSQL never wait on each other's rows.
        let ordered = group.sorted { ($0.work.deviceID?.uuidString ?? "") < ($1.work.deviceID?.uuidString ?? "") }
        guard let database = ordered.first?.database else { return }
        let items = ordered.map(\.work)
        do {
            let written = try await writes.run {
                try await database.transaction { tx in
                    // Each device first: the revision guard decides which check-ins of the group
                    // write; then their inventories, threats and events together.
                    var written: [Bool] = []
                    var committed: [PreparedCheckIn] = []
                    for work in items {
                        switch work {
                        case .change(let prepared):
                            let ok = try await Self.writeDevice(prepared, on: tx)
                            if ok { committed.append(prepared) }
                            written.append(ok)
                        case .touch(let touch):
                            written.append(try await HotQueries.touchIfUnchanged(
                                deviceID: touch.deviceID, revision: touch.revision, at: touch.now, facts: touch.facts,
                                policyVersion: touch.policyVersion, on: tx))
                        }
                    }
                    try await Self.writeChanges(committed, on: tx)
                    return written
                }
            }
            for (item, ok) in zip(ordered, written) { item.continuation.resume(returning: ok) }
        } catch {
            guard ordered.count > 1 else {
                ordered.first?.continuation.resume(throwing: error)
                return
            }
            for item in ordered { await flush([item]) }
        }
    }

    /// Writes one prepared check-in in the caller's transaction, events included; false (and
    /// nothing written) when the device is no longer at the revision the check-in read.
    static func write(_ prepared: PreparedCheckIn, on tx: any Database) async throws -> Bool {
        guard try await writeDevice(prepared, on: tx) else { return false }
        try await writeChanges([prepared], on: tx)
        return true
    }

    /// The device row, only if it is still at the revision the check-in read.
    static func writeDevice(_ prepared: PreparedCheckIn, on tx: any Database) async throws -> Bool {
        try await HotQueries.writeCheckIn(
            prepared.device, expectedRevision: prepared.expectedRevision, lastFacts: prepared.lastFacts, now: prepared.now, on: tx)
    }

    /// Inventories, threats and events of check-ins whose device rows were written.
    static func writeChanges(_ committed: [PreparedCheckIn], on tx: any Database) async throws {
        try await InventoryStore.write(committed.compactMap { prepared in
            prepared.device.id.map { (deviceID: $0, enterpriseID: prepared.enterpriseID, plan: prepared.inventory) }
        }, on: tx)
        try await ThreatLedger.write(committed.map { (plan: $0.threats, now: $0.now) }, on: tx)
        try await EventLog.append(committed.flatMap { prepared in
            prepared.events.map { EventLog.Entry(enterpriseID: prepared.enterpriseID, createdAt: prepared.now, event: $0) }
        }, on: tx)
    }
}
