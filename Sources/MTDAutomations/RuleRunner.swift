import FluentKit
import Foundation
import MTDCore
import MTDStore

/// The consumer's two halves: `process` records which events triggered which rules and what is due
/// (in the database, so a restart or a failover loses nothing), `runDue` performs what is due.
extension Automations {
    /// Records triggers and due executions for a batch of THREAT and DEVICE events. At least once:
    /// an event delivered again finds its (rule, event) trigger and adds nothing.
    public func process(_ events: [EventModel], on database: any Database) async throws {
        let enterprises = Set(events.map(\.enterpriseID))
        guard !enterprises.isEmpty else { return }
        let models = try await AutomationRuleModel.query(on: database).filter(\.$enterpriseID ~~ Array(enterprises)).filter(\.$enabled == true).all()
        guard !models.isEmpty else { return }
        var rules: [(enterpriseID: UUID, tag: AutomationRuleModel, rule: AutomationRule)] = []
        for model in models {
            do {
                rules.append((enterpriseID: model.enterpriseID, tag: model, rule: try Self.document(model)))
            } catch {
                logger.error("a stored automation rule cannot be read; it is skipped", metadata: ["rule": "\(model.id?.uuidString ?? "")", "error": "\(error)"])
            }
        }
        let index = RuleIndex(rules)
        var triggered: [Triggered] = []
        for event in try await EventFacts.build(events, on: database) {
            for (model, rule) in index.triggered(by: event) {
                // Group membership is the UEM's: asked only for rules that filter on it.
                var mismatch: String?
                if rule.trigger.filtersByDeviceGroup, let deviceID = event.deviceID {
                    mismatch = await deviceGroupMismatch(rule.trigger, deviceID: deviceID, on: database)
                }
                triggered.append(Triggered(event: event, rule: rule, model: model, heldBack: mismatch))
            }
        }
        // One transaction per few hundred triggers, not one per trigger: at a thousand events a
        // second the single SQLite writer is shared with every check-in.
        for start in stride(from: 0, to: triggered.count, by: 500) {
            try await record(Array(triggered[start..<min(triggered.count, start + 500)]), on: database)
        }
    }

    private struct Triggered {
        var event: AutomationEvent
        var rule: AutomationRule
        var model: AutomationRuleModel
        /// Why the rule does not run although it matched (a device-group filter), if it does not.
        var heldBack: String?
    }

    /// Records the triggers (in event order) and the executions of those that run. The history the
    /// count and the throttle look at is read once for the chunk and grows with it, so two events
    /// of one batch for one device are decided as they would be one after the other.
    private func record(_ chunk: [Triggered], on database: any Database) async throws {
        let items = chunk.filter { $0.model.id != nil && $0.event.deviceID != nil }
        guard !items.isEmpty else { return }
        let ruleIDs = Array(Set(items.compactMap(\.model.id)))
        let eventIDs = Array(Set(items.map(\.event.position)))
        let deviceIDs = Array(Set(items.compactMap(\.event.deviceID)))
        let earliest = (items.map(\.event.createdAt).min() ?? Date()).addingTimeInterval(-Double(AutomationRule.longestDelaySeconds))
        try await writes.run {
            try await database.transaction { tx in
                var seen = Set(try await AutomationTriggerModel.query(on: tx).filter(\.$ruleID ~~ ruleIDs).filter(\.$eventID ~~ eventIDs).all()
                    .map { "\($0.ruleID):\($0.eventID)" })
                var history: [String: [(at: Date, runs: Bool)]] = [:]
                for row in try await AutomationTriggerModel.query(on: tx).filter(\.$ruleID ~~ ruleIDs).filter(\.$deviceID ~~ deviceIDs)
                    .filter(\.$triggeredAt >= earliest).all() {
                    history["\(row.ruleID):\(row.deviceID?.uuidString ?? "")", default: []].append((row.triggeredAt, row.runs))
                }
                var triggers: [AutomationTriggerModel] = []
                var executions: [AutomationExecutionModel] = []
                for item in items {
                    guard let ruleID = item.model.id, let deviceID = item.event.deviceID else { continue }
                    let event = item.event, rule = item.rule
                    guard seen.insert("\(ruleID):\(event.position)").inserted else { continue }
                    let key = "\(ruleID):\(deviceID.uuidString)"
                    let earlier = (history[key] ?? []).filter { $0.at <= event.createdAt }
                    var decision = RunPlanner.decide(rule, event: event, history: earlier.map(\.at), lastRun: earlier.filter(\.runs).map(\.at).max())
                    if let heldBack = item.heldBack {
                        decision = RunPlanner.Decision(runs: false, dueAt: event.createdAt, reason: heldBack)
                    }
                    if rule.digest != nil, decision.runs {
                        // Counted for the day's digest, which `scheduleDigests` sends.
                        decision.reason = "held for the daily digest"
                    }
                    history[key, default: []].append((event.createdAt, decision.runs))
                    let trigger = AutomationTriggerModel()
                    trigger.enterpriseID = event.enterpriseID
                    trigger.ruleID = ruleID
                    trigger.eventID = event.position
                    trigger.deviceID = deviceID
                    trigger.triggeredAt = event.createdAt
                    trigger.runs = decision.runs
                    trigger.reason = decision.reason
                    triggers.append(trigger)
                    guard decision.runs, rule.digest == nil else { continue }
                    for (index, action) in rule.actions.enumerated() {
                        let execution = AutomationExecutionModel()
                        execution.enterpriseID = event.enterpriseID
                        execution.ruleID = ruleID
                        execution.ruleVersion = item.model.version
                        execution.eventID = event.position
                        execution.deviceID = deviceID
                        execution.threatID = event.threatID
                        execution.actionIndex = index
                        execution.actionType = action.kind
                        execution.idempotencyKey = Self.idempotencyKey(rule: ruleID, event: event.position, action: index)
                        execution.status = .pending
                        execution.attempts = 0
                        execution.dueAt = decision.dueAt
                        execution.requiresOpenThreat = (rule.conditions?.stillOpenAfterSeconds ?? 0) > 0
                        execution.createdAt = Date()
                        executions.append(execution)
                    }
                }
                if !triggers.isEmpty { try await triggers.create(on: tx) }
                if !executions.isEmpty { try await executions.create(on: tx) }
            }
        }
    }

    public static func idempotencyKey(rule: UUID, event: Int, action: Int) -> String {
        "\(rule.uuidString.lowercased()):\(event):\(action)"
    }

    /// Performs the executions due at `now`, in order within each run, several runs at once. Returns
    /// how many it finished (succeeded, dead or skipped). Loops while finishing one makes the next
    /// action of its run due, so a rule's second action does not wait for the next tick.
    @discardableResult
    public func runDue(on database: any Database, now: @escaping @Sendable () -> Date) async throws -> Int {
        try await dueGate.run { try await runDueNow(on: database, now: now) }
    }

    private func runDueNow(on database: any Database, now: @escaping @Sendable () -> Date) async throws -> Int {
        var finished = 0
        while true {
            let due = try await AutomationExecutionModel.query(on: database).filter(\.$status == .pending).filter(\.$dueAt <= now())
                .sort(\.$dueAt, .ascending).sort(\.$actionIndex, .ascending).limit(200).all()
            guard !due.isEmpty else { return finished }
            let ready = try await readyInOrder(due, on: database, now: now())
            guard !ready.isEmpty else { return finished }
            let rules = try await AutomationRuleModel.query(on: database).filter(\.$id ~~ Array(Set(ready.map(\.ruleID)))).all()
            let byID = Dictionary(rules.compactMap { rule in rule.id.map { ($0, rule) } }, uniquingKeysWith: { first, _ in first })
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                var done = 0
                var iterator = ready.makeIterator()
                var running = 0
                while running < settings.concurrentActions, let next = iterator.next() {
                    group.addTask { try await self.perform(next, rule: byID[next.ruleID], on: database, now: now) }
                    running += 1
                }
                while let result = try await group.next() {
                    if result { done += 1 }
                    if let next = iterator.next() { group.addTask { try await self.perform(next, rule: byID[next.ruleID], on: database, now: now) } }
                }
                return done
            }
            // What the round did, in one write. A crash before it sends those actions again on
            // restart (at least once; receivers drop the repeated idempotency key).
            let changed = ready.filter(\.hasChanges)
            if !changed.isEmpty {
                try await writes.run {
                    try await database.transaction { tx in
                        for execution in changed { try await execution.update(on: tx) }
                    }
                }
            }
            finished += outcomes
            if outcomes == 0 { return finished }
        }
    }

    /// The executions whose earlier actions in the same run have succeeded; those behind a dead or
    /// skipped one are skipped too.
    private func readyInOrder(_ due: [AutomationExecutionModel], on database: any Database, now: Date) async throws -> [AutomationExecutionModel] {
        var ready: [AutomationExecutionModel] = []
        var claimed = Set<String>()
        for execution in due {
            let run = "\(execution.ruleID):\(execution.eventID)"
            guard !claimed.contains(run) else { continue }
            if execution.actionIndex > 0 {
                let previousKey = Self.idempotencyKey(rule: execution.ruleID, event: execution.eventID, action: execution.actionIndex - 1)
                let previous = try await AutomationExecutionModel.query(on: database).filter(\.$idempotencyKey == previousKey).first()
                switch previous?.status {
                case .succeeded?: break
                case .pending?: continue
                case .dead?, .skipped?, nil:
                    try await finish(execution, as: .skipped, error: "an earlier action of this run did not succeed", responseStatus: nil, on: database, now: now)
                    continue
                }
            }
            claimed.insert(run)
            ready.append(execution)
        }
        return ready
    }

    /// One attempt at one execution; true when it is finished (succeeded, dead or skipped).
    /// The execution's new state is set on the model and written by the caller with the others of
    /// its round (one transaction, not one per action).
    private func perform(_ execution: AutomationExecutionModel, rule model: AutomationRuleModel?, on database: any Database,
                         now: @escaping @Sendable () -> Date) async throws -> Bool {
        guard let model else { return false }
        guard model.enabled else {
            settle(execution, as: .skipped, error: "the rule was disabled before the action was due", responseStatus: nil, now: now())
            return true
        }
        if execution.requiresOpenThreat, let threatID = execution.threatID {
            let threat = try await ThreatModel.query(on: database).filter(\.$id == threatID).first()
            guard threat?.status == .open else {
                settle(execution, as: .skipped, error: "the threat was no longer open when the delay ran out", responseStatus: nil, now: now())
                return true
            }
        }
        let rule: AutomationRule
        do {
            rule = try Self.document(model)
        } catch {
            settle(execution, as: .dead, error: "the rule cannot be read: \(error)", responseStatus: nil, now: now())
            return true
        }
        if execution.actionIndex == 0, (rule.conditions?.stillInStateAfterSeconds ?? 0) > 0, let deviceID = execution.deviceID,
           let reason = try await stateChanged(rule.trigger, deviceID: deviceID, on: database) {
            settle(execution, as: .skipped, error: reason, responseStatus: nil, now: now())
            return true
        }
        guard rule.actions.indices.contains(execution.actionIndex) else {
            settle(execution, as: .skipped, error: "the rule was changed and no longer has this action", responseStatus: nil, now: now())
            return true
        }
        let outcome: ActionOutcome
        switch rule.actions[execution.actionIndex] {
        case .webhook(let webhook):
            outcome = await deliver(webhook, execution: execution, rule: model, on: database, now: now())
        case .email(let email):
            outcome = await mail(email, execution: execution, rule: model, on: database, now: now())
        case .uem(let action):
            outcome = await command(action, execution: execution, on: database)
            if case .succeeded = outcome {
                // Destructive or not, a UEM command is told to the audit trail with its cause.
                try await writes.run {
                    try await EventLog.append([Self.commandAudit(action, execution: execution, rule: model)], enterpriseID: execution.enterpriseID,
                                              on: database, now: now())
                }
            }
        }
        switch outcome {
        case .succeeded(let status):
            settle(execution, as: .succeeded, error: nil, responseStatus: status, now: now())
            return true
        case .failed(let message, let status):
            let attempts = execution.attempts + 1
            if attempts >= settings.maxAttempts {
                logger.warning("an automation action failed for good", metadata: ["rule": "\(model.name)", "action": "\(execution.actionIndex)", "error": "\(message)"])
                settle(execution, as: .dead, error: message, responseStatus: status, now: now())
                return true
            }
            let wait = settings.firstRetrySeconds * Double(1 << min(attempts - 1, 16))
            execution.attempts = attempts
            execution.lastError = message
            execution.responseStatus = status
            execution.dueAt = now().addingTimeInterval(min(wait, 3_600))
            return false
        }
    }

    private func finish(_ execution: AutomationExecutionModel, as status: ExecutionStatus, error: String?, responseStatus: Int?,
                        on database: any Database, now: Date) async throws {
        settle(execution, as: status, error: error, responseStatus: responseStatus, now: now)
        try await writes.run { try await execution.update(on: database) }
    }

    private func settle(_ execution: AutomationExecutionModel, as status: ExecutionStatus, error: String?, responseStatus: Int?, now: Date) {
        execution.status = status
        if status != .skipped { execution.attempts += 1 }
        execution.lastError = error
        execution.responseStatus = responseStatus
        execution.completedAt = now
    }
}

extension Automations {
    /// Why a delayed DEVICE rule no longer applies (nil: the device is still in the state).
    func stateChanged(_ trigger: AutomationRule.Trigger, deviceID: UUID, on database: any Database) async throws -> String? {
        guard let device = try await DeviceModel.query(on: database).filter(\.$id == deviceID).first() else { return "the device is gone" }
        if trigger.connectionTo != nil, device.connectionStatus == .connected {
            return "the device checked in again before the delay ran out"
        }
        if let status = trigger.securityStatusTo, device.securityStatus != status {
            return "the device's security status is \(device.securityStatus.rawValue) now, no longer \(status.rawValue)"
        }
        return nil
    }

    static func commandAudit(_ action: AutomationRule.UEMAction, execution: AutomationExecutionModel, rule: AutomationRuleModel) -> EventLog.NewEvent {
        EventLog.NewEvent(
            type: .audit, change: .updated, actor: EventParty(type: "AUTOMATION", guid: execution.ruleID.uuidString.lowercased()),
            target: EventParty(type: "DEVICE", guid: execution.deviceID?.uuidString.lowercased()),
            payload: AuditPayload(type: "UEM_COMMAND", changes: [
                .init(name: "command", to: action.command.rawValue), .init(name: "rule", to: rule.name),
                .init(name: "event", to: String(execution.eventID)), .init(name: "idempotency_key", to: execution.idempotencyKey),
            ]))
    }
}

enum ActionOutcome: Sendable {
    case succeeded(status: Int?)
    case failed(String, status: Int?)
}
