import FluentKit
import Foundation
import MTDCore
import MTDDetection
import MTDStore

/// Applies an evaluation to a device inside a transaction: reconciles threats, derives the security
/// status (through the device ledger) and returns exactly one THREAT event per change. Shared by check-ins, policy re-evaluation and
/// admin actions on threats.
enum ThreatLedger {
    struct Outcome: Sendable {
        var opened = 0
        var updated = 0
        var resolved = 0
        var events: [EventLog.NewEvent] = []
        /// The device's security status after the change: the highest severity still open.
        var securityStatus: SecurityStatus = .secure
    }

    /// Reconciles `evaluation` with the device's open and ignored threats and returns the events.
    /// Threat rows are read and written with plain SQL.
    static func apply(_ evaluation: Evaluation, to device: DeviceModel, actor: EventParty, on tx: any Database, now: Date) async throws -> Outcome {
        guard let deviceID = device.id else { return Outcome() }
        let stored = try await HotQueries.activeThreatModels(of: deviceID, on: tx)
        let plan = plan(evaluation, device: device, stored: stored, actor: actor, now: now)
        try await write(plan, now: now, on: tx)
        return plan.outcome
    }

    /// What reconciling `evaluation` with the stored open and ignored threats changes, worked out in
    /// memory: the threats to create, the ones to update (`stored` models, changed in place) and the
    /// outcome with one THREAT event per change.
    struct Plan: Sendable {
        var outcome = Outcome()
        var created: [ThreatModel] = []
        var changed: [ThreatModel] = []
    }

    static func plan(_ evaluation: Evaluation, device: DeviceModel, stored: [ThreatModel], actor: EventParty, now: Date) -> Plan {
        guard device.id != nil else { return Plan() }
        let (known, byKey) = knownThreats(stored)
        let changes = ThreatReconciliation.reconcile(findings: evaluation.findings, known: known)
        var plan = Plan()
        // Severities that stay open, by threat key; updated below as threats change.
        var open: [ThreatKey: Severity] = [:]
        for threat in known where threat.status == .open { open[threat.key] = threat.severity }
        for finding in changes.opened {
            let threat = newThreat(finding, device: device, now: now)
            plan.created.append(threat)
            plan.outcome.opened += 1
            open[finding.key] = finding.severity
            plan.outcome.events.append(event(threat, .created, actor: actor))
        }
        for finding in changes.updated {
            guard let threat = byKey[finding.key] else { continue }
            threat.severity = finding.severity
            threat.fingerprint = finding.evidence.fingerprint
            threat.evidence = evidenceText(finding.evidence)
            if threat.status == .ignored {
                threat.status = .open
                threat.statusReason = "evidence changed since it was ignored"
            }
            plan.changed.append(threat)
            plan.outcome.updated += 1
            open[finding.key] = finding.severity
            plan.outcome.events.append(event(threat, .updated, actor: actor))
        }
        for key in changes.resolved {
            guard let threat = byKey[key] else { continue }
            threat.status = .resolved
            threat.resolvedAt = now
            threat.statusReason = "no longer detected"
            plan.changed.append(threat)
            plan.outcome.resolved += 1
            open[key] = nil
            plan.outcome.events.append(event(threat, .updated, actor: actor))
        }
        plan.outcome.securityStatus = DeviceLedger.securityStatus(openSeverities: open.values)
        return plan
    }

    /// A new open threat of `device` for `finding` (not yet stored).
    static func newThreat(_ finding: Finding, device: DeviceModel, now: Date) -> ThreatModel {
        let threat = ThreatModel()
        threat.id = UUID()
        threat.enterpriseID = device.$enterprise.id
        threat.$device.id = device.id ?? UUID()
        threat.classification = finding.classification.rawValue
        threat.subject = finding.evidence.subject
        threat.type = finding.type.rawValue
        threat.severity = finding.severity
        threat.status = .open
        threat.fingerprint = finding.evidence.fingerprint
        threat.evidence = evidenceText(finding.evidence)
        threat.detectedAt = now
        return threat
    }

    static func write(_ plan: Plan, now: Date, on tx: any Database) async throws {
        try await write([(plan, now)], on: tx)
    }

    /// Writes the plans of several devices (a group of check-ins): new threats in one INSERT.
    static func write(_ plans: [(plan: Plan, now: Date)], on tx: any Database) async throws {
        try await HotQueries.insert(threats: plans.flatMap(\.plan.created), on: tx)
        for (plan, now) in plans where !plan.changed.isEmpty {
            try await HotQueries.update(threats: plan.changed, now: now, on: tx)
        }
    }

    /// Stored threats (rows of the steady state, models of a change) as the reconciliation sees
    /// them, and by key.
    static func knownThreats<Stored: StoredThreatFacts>(_ stored: [Stored]) -> ([KnownThreat], [ThreatKey: Stored]) {
        var byKey: [ThreatKey: Stored] = [:]
        var known: [KnownThreat] = []
        for threat in stored {
            guard let classification = ThreatClassification(rawValue: threat.classification) else { continue }
            let key = ThreatKey(classification: classification, subject: threat.subject)
            byKey[key] = threat
            known.append(KnownThreat(
                key: key, status: threat.status == .ignored ? .ignored : .open,
                severity: threat.severity, fingerprint: threat.fingerprint))
        }
        return (known, byKey)
    }

    static func event(_ threat: ThreatModel, _ change: ChangeType, actor: EventParty) -> EventLog.NewEvent {
        EventLog.NewEvent(
            type: .threat, change: change, actor: actor,
            target: EventParty(type: "THREAT", guid: threat.id?.uuidString.lowercased()), payload: ThreatPayload(threat))
    }

    static func evidenceText(_ evidence: Evidence) -> String {
        StoredJSON.text(evidence)
    }
}

/// What the reconciliation reads of a stored threat.
protocol StoredThreatFacts {
    var classification: String { get }
    var subject: String { get }
    var severity: Severity { get }
    var status: ThreatStatus { get }
    var fingerprint: String { get }
}

extension HotQueries.StoredThreat: StoredThreatFacts {}
extension ThreatModel: StoredThreatFacts {}
