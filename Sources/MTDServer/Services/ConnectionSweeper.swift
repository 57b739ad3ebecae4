import MTDServices
import FluentKit
import Foundation
import Logging
import MTDCore
import MTDStore

/// Moves activated devices between CONNECTED, UNREACHABLE and DISCONNECTED by check-in age; every
/// transition appends a DEVICE event.
struct ConnectionSweeper: Sendable {
    let thresholds: ConnectionThresholds
    let writes: WriteGate

    /// One pass; returns how many devices changed.
    @discardableResult
    func sweep(on database: any Database, now: Date = Date()) async throws -> Int {
        let unreachableBefore = now.addingTimeInterval(-Double(thresholds.unreachableAfterSeconds))
        // By the indexed hour (M018), up to and including the threshold's hour; the exact age is
        // checked below, so devices of that hour that are not yet due are left alone.
        let candidates = try await DeviceModel.query(on: database)
            .filter(\.$activationStatus == .activated)
            .group(.or) { group in
                group.filter(\.$lastCheckInHour <= DeviceModel.checkInHour(unreachableBefore))
                    .filter(\.$connectionStatus != .connected)
            }
            .all()
        var changedCount = 0
        for candidate in candidates {
            let age = now.timeIntervalSince(candidate.lastCheckInAt ?? candidate.activatedAt ?? now)
            let status = thresholds.status(forAge: age)
            guard status != candidate.connectionStatus, let deviceID = candidate.id else { continue }
            try await writes.run {
                try await database.transaction { tx in
                    // Re-read inside the transaction: a check-in may have arrived meanwhile.
                    try await RowLocks.lockDevice(deviceID, on: tx)
                    guard let device = try await DeviceModel.find(deviceID, on: tx) else { return }
                    let age = now.timeIntervalSince(device.lastCheckInAt ?? device.activatedAt ?? now)
                    let status = thresholds.status(forAge: age)
                    guard status != device.connectionStatus else { return }
                    let event = try await DeviceLedger.record(device, actor: .system, on: tx) { $0.connectionStatus = status }
                    try await EventLog.append(event.map { [$0] } ?? [], enterpriseID: device.$enterprise.id, on: tx, now: now)
                }
            }
            changedCount += 1
        }
        return changedCount
    }

    /// Sweeps every `interval` seconds until cancelled.
    func run(every interval: Double, database: @escaping @Sendable () -> any Database, logger: Logger) async {
        while !Task.isCancelled {
            do {
                let changed = try await sweep(on: database())
                if changed > 0 { logger.info("connection sweep", metadata: ["changed": "\(changed)"]) }
            } catch {
                logger.error("connection sweep failed; retrying next interval", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(nanoseconds: SleepInterval.nanoseconds(interval))
        }
    }
}
