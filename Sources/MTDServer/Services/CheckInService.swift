import FluentKit
import Foundation
import MTDCore
import MTDDetection
import MTDStore

/// One check-in, in one transaction: store the facts and the inventory (delta-aware), run detection,
/// reconcile threats, update device state and append the events.
struct CheckInService: Sendable {
    let policies: PolicyService
    let writes: WriteGate
    /// Today for policy evaluation (see EvaluationClock).
    var clock: EvaluationClock = .system

    struct Result: Sendable {
        var securityStatus: SecurityStatus
        var policyVersion: Int
        var fullInventoryRequired: Bool
        var opened: Int
        var resolved: Int
        /// Whether the device's state or threats changed (the UEM may need new tags).
        var changed: Bool
    }

    /// `snapshot` is the device as its credential check read it; without one it is read here.
    func checkIn(
        _ checkIn: CheckIn, deviceID: UUID, enterpriseID: UUID, snapshot: HotQueries.DeviceSnapshot? = nil, on database: any Database, now: Date = Date()
    ) async throws -> Result {
        let policy = try await policies.current(for: enterpriseID, on: database, now: now)
        if let result = try await steadyState(checkIn, deviceID: deviceID, snapshot: snapshot, policy: policy, on: database, now: now) {
            return result
        }
        return try await writes.run {
            try await database.transaction { tx in
                try await RowLocks.lockDevice(deviceID, on: tx)
                guard let device = try await DeviceModel.find(deviceID, on: tx) else { throw APIError.unauthorized("this device no longer exists; activate again") }
                guard device.activationStatus == .activated else {
                    throw APIError(status: .forbidden, code: "not_activated", message: "this device is \(device.activationStatus.rawValue.lowercased()); activate again")
                }
                let inventory = try await InventoryStore.apply(checkIn.apps, to: device, on: tx)
                var facts = checkIn
                facts.apps = AppInventory(inventoryVersion: device.inventoryVersion ?? 0, complete: true, installed: inventory.apps)
                let evaluation = policy.engine.evaluate(facts, asOfDay: Timestamp.day(of: clock.now()))
                let actor = EventParty(type: "DEVICE", guid: deviceID.uuidString.lowercased())
                var outcome = try await ThreatLedger.apply(evaluation, to: device, actor: actor, on: tx, now: now)
                let status = outcome.securityStatus
                var stored = checkIn
                stored.apps = nil
                let factsText = StoredFacts.text(stored)
                let deviceEvent = try await DeviceLedger.record(device, actor: actor, on: tx) { device in
                    device.securityStatus = status
                    device.connectionStatus = .connected
                    // A fact the agent did not send keeps its stored value.
                    device.osVersion = checkIn.device.osVersion
                    if let value = checkIn.device.securityPatchLevel { device.securityPatchLevel = value }
                    if let value = checkIn.device.model { device.model = value }
                    if let value = checkIn.device.manufacturer { device.manufacturer = value }
                    if let value = checkIn.agent.version { device.agentVersion = value }
                    device.mode = checkIn.agent.mode.rawValue
                    device.lastFacts = factsText
                    device.lastCheckInAt = now
                    device.policyVersion = policy.version
                }
                if let deviceEvent { outcome.events.append(deviceEvent) }
                try await EventLog.append(outcome.events, enterpriseID: enterpriseID, on: tx, now: now)
                return Result(
                    securityStatus: status, policyVersion: policy.version, fullInventoryRequired: inventory.fullInventoryRequired,
                    opened: outcome.opened, resolved: outcome.resolved, changed: !outcome.events.isEmpty)
            }
        }
    }
}

extension CheckInService {
    /// Most check-ins change nothing: same inventory version, same posture, same findings. They are
    /// evaluated from a snapshot read outside any transaction and committed with one conditional
    /// update; if the device changed meanwhile (its revision moved) or anything would change, nil
    /// sends the check-in down the transactional path.
    func steadyState(
        _ checkIn: CheckIn, deviceID: UUID, snapshot known: HotQueries.DeviceSnapshot?, policy: PolicyService.Current, on database: any Database, now: Date
    ) async throws -> Result? {
        var snapshot = known
        if snapshot == nil { snapshot = try await HotQueries.snapshot(of: deviceID, on: database) }
        guard let snapshot,
              snapshot.activationStatus == .activated,
              snapshot.connectionStatus == .connected
        else { return nil }
        if let apps = checkIn.apps, apps.complete || apps.inventoryVersion != snapshot.inventoryVersion { return nil }
        func same(_ stored: String?, _ incoming: String?) -> Bool { incoming == nil || incoming == stored }
        guard same(snapshot.osVersion, checkIn.device.osVersion), same(snapshot.securityPatchLevel, checkIn.device.securityPatchLevel),
              same(snapshot.model, checkIn.device.model), same(snapshot.manufacturer, checkIn.device.manufacturer),
              same(snapshot.agentVersion, checkIn.agent.version), same(snapshot.mode, checkIn.agent.mode.rawValue)
        else { return nil }
        let (apps, threats) = try await HotQueries.appsAndThreats(of: deviceID, on: database)
        var facts = checkIn
        facts.apps = AppInventory(inventoryVersion: snapshot.inventoryVersion ?? 0, complete: true, installed: apps)
        let evaluation = policy.engine.evaluate(facts, asOfDay: Timestamp.day(of: clock.now()))
        let (known, _) = ThreatLedger.knownThreats(threats)
        guard ThreatReconciliation.reconcile(findings: evaluation.findings, known: known).isEmpty else { return nil }
        let status = DeviceLedger.securityStatus(openSeverities: known.filter { $0.status == .open }.map(\.severity))
        guard status == snapshot.securityStatus else { return nil }
        var stored = checkIn
        stored.apps = nil
        let factsText = StoredFacts.text(stored)
        let committed = try await writes.run {
            try await HotQueries.touchIfUnchanged(
                deviceID: deviceID, revision: snapshot.revision, at: now, facts: factsText, policyVersion: policy.version, on: database)
        }
        guard committed else { return nil }
        return Result(
            securityStatus: status, policyVersion: policy.version, fullInventoryRequired: snapshot.inventoryVersion == nil, opened: 0, resolved: 0,
            changed: false)
    }
}
