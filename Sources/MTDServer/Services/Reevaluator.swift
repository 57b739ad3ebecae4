import MTDServices
import FluentKit
import Foundation
import Logging
import MTDCore
import MTDStore

/// After a policy change, evaluates every device of the enterprise again from its last facts and
/// stored inventory, so severities and security statuses follow the new policy without waiting for
/// the next check-in.
struct Reevaluator: Sendable {
    let policies: PolicyService
    let writes: WriteGate
    /// Today for policy evaluation (see EvaluationClock).
    var clock: EvaluationClock = .system

    @discardableResult
    func reevaluate(enterpriseID: UUID, on database: any Database, now: Date = Date()) async throws -> Int {
        let policy = try await policies.current(for: enterpriseID, on: database, now: now)
        let devices = try await DeviceModel.query(on: database)
            .filter(\.$enterprise.$id == enterpriseID)
            .filter(\.$activationStatus == ActivationStatus.activated)
            .all()
        var count = 0
        for device in devices {
            guard let deviceID = device.id, let lastFacts = StoredFacts.checkIn(device.lastFacts) else { continue }
            try await writes.run {
                try await database.transaction { tx in
                    try await RowLocks.lockDevice(deviceID, on: tx)
                    guard let device = try await DeviceModel.find(deviceID, on: tx) else { return }
                    var facts = lastFacts
                    let apps = try await HotQueries.apps(of: deviceID, on: tx)
                    facts.apps = AppInventory(inventoryVersion: device.inventoryVersion ?? 0, complete: true, installed: apps)
                    let evaluation = policy.engine.evaluate(facts, asOfDay: Timestamp.day(of: clock.now()))
                    var outcome = try await ThreatLedger.apply(evaluation, to: device, actor: .system, on: tx, now: now)
                    let status = outcome.securityStatus
                    let deviceEvent = try await DeviceLedger.record(device, actor: .system, on: tx) { device in
                        device.policyVersion = policy.version
                        device.securityStatus = status
                    }
                    if let deviceEvent { outcome.events.append(deviceEvent) }
                    try await EventLog.append(outcome.events, enterpriseID: enterpriseID, on: tx, now: now)
                }
            }
            count += 1
        }
        return count
    }
}
