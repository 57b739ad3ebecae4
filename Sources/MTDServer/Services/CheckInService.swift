import MTDServices
import FluentKit
import Foundation
import MTDCore
import MTDDetection
import MTDStore

/// One check-in: store the facts and the inventory (delta-aware), run detection, reconcile threats,
/// update device state and append the events, all in one transaction.
///
/// A check-in that changes something is read and worked out outside any transaction (device,
/// inventory, threats; detection; the changes and their events), then committed by the
/// CheckInWriter together with other check-ins of the moment, each guarded by its device's
/// revision. A check-in whose device changed in between starts over; one that keeps losing that
/// race runs inside one transaction that holds the device.
struct CheckInService: Sendable {
    let policies: PolicyService
    let writes: WriteGate
    let writer: CheckInWriter
    /// Today for policy evaluation (see EvaluationClock).
    var clock: EvaluationClock = .system

    init(policies: PolicyService, writes: WriteGate, clock: EvaluationClock = .system) {
        self.policies = policies
        self.writes = writes
        self.writer = CheckInWriter(writes: writes)
        self.clock = clock
    }

    /// Optimistic attempts before a check-in takes the device's lock.
    static let optimisticAttempts = 3

    struct Result: Sendable {
        var securityStatus: SecurityStatus
        var policyVersion: Int
        var fullInventoryRequired: Bool
        var opened: Int
        var resolved: Int
        /// Whether the device's state or threats changed (the UEM may need new tags).
        var changed: Bool
        /// Optimistic attempts lost to a concurrent change of the device.
        var retries = 0
        /// Whether the check-in had to commit holding the device's lock.
        var locked = false
    }

    /// `snapshot` is the device as its credential check read it; without one it is read here.
    func checkIn(
        _ checkIn: CheckIn, deviceID: UUID, enterpriseID: UUID, snapshot: HotQueries.DeviceSnapshot? = nil, body: Data? = nil,
        on database: any Database, now: Date = Date()
    ) async throws -> Result {
        let policy = try await policies.current(for: enterpriseID, on: database, now: now)
        if let result = try await steadyState(checkIn, deviceID: deviceID, snapshot: snapshot, body: body, policy: policy, on: database, now: now) {
            return result
        }
        for attempt in 0..<Self.optimisticAttempts {
            let prepared = try await prepare(checkIn, deviceID: deviceID, policy: policy, on: database, now: now)
            if try await writer.commit(prepared, on: database) {
                var result = prepared.result
                result.retries = attempt
                return result
            }
        }
        return try await writes.run {
            try await database.transaction { tx in
                try await RowLocks.lockDevice(deviceID, on: tx)
                let prepared = try await prepare(checkIn, deviceID: deviceID, policy: policy, on: tx, now: now)
                guard try await CheckInWriter.write(prepared, on: tx) else {
                    throw APIError(status: .conflict, code: "device_changed", message: "the device changed during the check-in; check in again")
                }
                var result = prepared.result
                result.retries = Self.optimisticAttempts
                result.locked = true
                return result
            }
        }
    }

    /// Reads the device, its inventory and threats and works out everything the check-in changes.
    func prepare(_ checkIn: CheckIn, deviceID: UUID, policy: PolicyService.Current, on database: any Database, now: Date) async throws -> PreparedCheckIn {
        guard let state = try await HotQueries.checkInState(of: deviceID, on: database) else {
            throw APIError.unauthorized("this device no longer exists; activate again")
        }
        let device = state.device
        guard device.activationStatus == .activated else {
            throw APIError(status: .forbidden, code: "not_activated", message: "this device is \(device.activationStatus.rawValue.lowercased()); activate again")
        }
        let revision = device.revision
        let storedApps = state.apps
        let storedThreats = state.threats
        let inventory = InventoryStore.plan(checkIn.apps, stored: storedApps, storedVersion: device.inventoryVersion)
        var facts = checkIn
        facts.apps = AppInventory(inventoryVersion: inventory.inventoryVersion ?? 0, complete: true, installed: inventory.apps)
        let evaluation = policy.engine.evaluate(facts, asOfDay: Timestamp.day(of: clock.now()))
        let actor = EventParty(type: "DEVICE", guid: deviceID.uuidString.lowercased())
        let threats = ThreatLedger.plan(evaluation, device: device, stored: storedThreats, actor: actor, now: now)
        let status = threats.outcome.securityStatus
        var stored = checkIn
        stored.apps = nil
        let deviceEvent = try DeviceLedger.apply(device, actor: actor) { device in
            device.securityStatus = status
            device.connectionStatus = .connected
            // A fact the agent did not send keeps its stored value.
            device.osVersion = checkIn.device.osVersion
            if let value = checkIn.device.securityPatchLevel { device.securityPatchLevel = value }
            if let value = checkIn.device.model { device.model = value }
            if let value = checkIn.device.manufacturer { device.manufacturer = value }
            if let value = checkIn.agent.version { device.agentVersion = value }
            device.mode = checkIn.agent.mode.rawValue
            device.inventoryVersion = inventory.inventoryVersion
            device.recordCheckIn(at: now)
            device.policyVersion = policy.version
        }
        var events = threats.outcome.events
        if let deviceEvent { events.append(deviceEvent) }
        return PreparedCheckIn(
            device: device, expectedRevision: revision, enterpriseID: device.$enterprise.id, lastFacts: StoredFacts.text(stored), now: now,
            inventory: inventory, threats: threats, events: events,
            result: Result(
                securityStatus: status, policyVersion: policy.version, fullInventoryRequired: inventory.fullInventoryRequired,
                opened: threats.outcome.opened, resolved: threats.outcome.resolved, changed: !events.isEmpty))
    }
}

/// Everything one check-in changes, worked out from what it read at `expectedRevision`.
struct PreparedCheckIn: Sendable {
    /// The device after the change (revision already bumped); an in-memory model.
    var device: DeviceModel
    var expectedRevision: Int
    var enterpriseID: UUID
    var lastFacts: String
    var now: Date
    var inventory: InventoryStore.Plan
    var threats: ThreatLedger.Plan
    var events: [EventLog.NewEvent]
    var result: CheckInService.Result
}

extension CheckInService {
    /// Most check-ins change nothing: same inventory version, same posture, same findings. They are
    /// evaluated from a snapshot read outside any transaction and committed with one conditional
    /// update; if the device changed meanwhile (its revision moved) or anything would change, nil
    /// sends the check-in down the transactional path.
    func steadyState(
        _ checkIn: CheckIn, deviceID: UUID, snapshot known: HotQueries.DeviceSnapshot?, body: Data? = nil, policy: PolicyService.Current,
        on database: any Database, now: Date
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
        let factsText = StoredFacts.text(stored, body: body)
        let committed = try await writer.touch(
            .init(deviceID: deviceID, revision: snapshot.revision, now: now, facts: factsText, policyVersion: policy.version), on: database)
        guard committed else { return nil }
        return Result(
            securityStatus: status, policyVersion: policy.version, fullInventoryRequired: snapshot.inventoryVersion == nil, opened: 0, resolved: 0,
            changed: false)
    }
}
