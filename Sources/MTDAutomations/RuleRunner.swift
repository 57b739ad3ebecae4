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
        let index = ruleIndex(for: models)
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
        if !triggered.isEmpty { recorded.signal() }
    }

    /// The index of these rules: the one built for the previous batch while no rule changed (same
    /// ids and versions), else a new one. Decoding and compiling a hundred rules for every batch
    /// cost more than matching the batch.
    private func ruleIndex(for models: [AutomationRuleModel]) -> RuleIndex<AutomationRuleModel> {
        let signature = models.map { "\($0.id?.uuidString ?? ""):\($0.version)" }.sorted()
        if let cached = indexCache.withLockedValue({ $0 }), cached.signature == signature { return cached.index }
        var rules: [(enterpriseID: UUID, tag: AutomationRuleModel, rule: AutomationRule)] = []
        for model in models {
            do {
                rules.append((enterpriseID: model.enterpriseID, tag: model, rule: try Self.document(model)))
            } catch {
                logger.error("a stored automation rule cannot be read; it is skipped", metadata: ["rule": "\(model.id?.uuidString ?? "")", "error": "\(error)"])
            }
        }
        let index = RuleIndex(rules)
        indexCache.withLockedValue { $0 = (signature, index) }
        return index
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
        // Urgent, like the UEM's writes: a lock or a threat level waits on this, not behind queued check-ins.
        try await writes.run(priority: .urgent) {
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

    /// Performs the executions due at `now()`, in order within each run, up to
    /// `settings.concurrentActions` at once, and returns how many it finished (succeeded, dead or
    /// skipped). It works as a pipeline, not in rounds: a free slot takes the next due action at
    /// once, so a slow receiver holds up only its own run; results are written together (one
    /// transaction for those finished since the last write) before each fetch and at least every
    /// `resultFlushSeconds`. A fetch after an action succeeded also picks up its run's next action.
    /// Each execution is attempted at most once per call; a retry waits for its backoff.
    @discardableResult
    public func runDue(on database: any Database, now: @escaping @Sendable () -> Date) async throws -> Int {
        try await dueGate.run { try await runDueNow(on: database, now: now) }
    }

    /// How long finished results may wait to be written while other actions keep running.
    static let resultFlushSeconds = 0.05

    private func runDueNow(on database: any Database, now: @escaping @Sendable () -> Date) async throws -> Int {
        let slots = max(settings.concurrentActions, 1)
        return try await withThrowingTaskGroup(of: (AutomationExecutionModel, Bool).self) { group in
            var finished = 0
            var running = Set<UUID>()
            var pending: [(execution: AutomationExecutionModel, facts: RunFacts)] = []
            var settled: [AutomationExecutionModel] = []
            var lastWrite = Date()
            var fetch = true
            do {
                while true {
                    if pending.isEmpty, fetch, running.count < slots {
                        // The results first: a run's next action is due only once its previous one is recorded.
                        try await write(settled, on: database)
                        settled.removeAll()
                        lastWrite = Date()
                        let fetched = try await fetchReady(excluding: running, on: database, now: now())
                        finished += fetched.skipped
                        pending = fetched.ready.reversed().map { ($0, fetched.facts) }
                        fetch = !pending.isEmpty
                    }
                    while running.count < slots, let next = pending.popLast() {
                        if let id = next.execution.id { running.insert(id) }
                        group.addTask { (next.execution, try await self.perform(next.execution, facts: next.facts, on: database, now: now)) }
                    }
                    guard let (execution, done) = try await group.next() else { break }
                    if let id = execution.id { running.remove(id) }
                    if execution.hasChanges { settled.append(execution) }
                    if done {
                        finished += 1
                        fetch = true
                    }
                    if Date().timeIntervalSince(lastWrite) >= Self.resultFlushSeconds {
                        try await write(settled, on: database)
                        settled.removeAll()
                        lastWrite = Date()
                    }
                }
                try await write(settled, on: database)
            } catch {
                // What finished is recorded even when another action's database work failed, so
                // it is not sent again.
                group.cancelAll()
                while let result = try? await group.next() {
                    if result.0.hasChanges { settled.append(result.0) }
                }
                do {
                    try await write(settled, on: database)
                } catch let writeError {
                    logger.error("automation results could not be written; those actions run again (receivers drop the repeated idempotency key)",
                                 metadata: ["error": "\(writeError)"])
                }
                throw error
            }
            return finished
        }
    }

    /// The results of finished attempts, in one transaction. Urgent: an action that took access
    /// away (a lock, a threat level) is recorded before queued check-ins write.
    private func write(_ settled: [AutomationExecutionModel], on database: any Database) async throws {
        guard !settled.isEmpty else { return }
        try await writes.run(priority: .urgent) {
            try await database.transaction { tx in
                for execution in settled { try await execution.update(on: tx) }
            }
        }
    }

    /// Due executions not running now, with what performing them needs, in order within each
    /// run: those whose earlier action is still pending wait; those behind a dead or skipped one
    /// are skipped (and counted).
    private func fetchReady(excluding running: Set<UUID>, on database: any Database, now: Date)
        async throws -> (ready: [AutomationExecutionModel], facts: RunFacts, skipped: Int) {
        let due = try await AutomationExecutionModel.query(on: database).filter(\.$status == .pending).filter(\.$dueAt <= now)
            .sort(\.$dueAt, .ascending).sort(\.$actionIndex, .ascending).limit(200 + running.count).all()
            .filter { execution in execution.id.map { !running.contains($0) } ?? false }
        guard !due.isEmpty else { return ([], RunFacts(), 0) }
        let facts = try await RunFacts.load(due, on: database)
        var ready: [AutomationExecutionModel] = []
        var skipped: [AutomationExecutionModel] = []
        var claimed = Set<String>()
        for execution in due {
            let run = "\(execution.ruleID):\(execution.eventID)"
            guard !claimed.contains(run) else { continue }
            if execution.actionIndex > 0 {
                let previousKey = Self.idempotencyKey(rule: execution.ruleID, event: execution.eventID, action: execution.actionIndex - 1)
                switch facts.previousStatuses[previousKey] {
                case .succeeded?: break
                case .pending?: continue
                case .dead?, .skipped?, nil:
                    settle(execution, as: .skipped, error: "an earlier action of this run did not succeed", responseStatus: nil, now: now)
                    skipped.append(execution)
                    continue
                }
            }
            claimed.insert(run)
            ready.append(execution)
        }
        try await write(skipped, on: database)
        return (ready, facts, skipped.count)
    }

    /// One attempt at one execution; true when it is finished (succeeded, dead or skipped).
    /// The execution's new state is set on the model and written by the caller with the others
    /// that finished about the same time (one transaction, not one per action).
    private func perform(_ execution: AutomationExecutionModel, facts: RunFacts, on database: any Database,
                         now: @escaping @Sendable () -> Date) async throws -> Bool {
        guard let model = facts.rules[execution.ruleID] else {
            settle(execution, as: .skipped, error: "the rule was deleted before the action was due", responseStatus: nil, now: now())
            return true
        }
        guard model.enabled else {
            settle(execution, as: .skipped, error: "the rule was disabled before the action was due", responseStatus: nil, now: now())
            return true
        }
        if execution.requiresOpenThreat, let threatID = execution.threatID {
            guard facts.threatStatuses[threatID] == .open else {
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
        if execution.actionIndex == 0, (rule.conditions?.stillInStateAfterSeconds ?? 0) > 0, let deviceID = execution.deviceID {
            if let reason = stateChanged(rule.trigger, device: facts.devices[deviceID]) {
                settle(execution, as: .skipped, error: reason, responseStatus: nil, now: now())
                return true
            }
        }
        guard rule.actions.indices.contains(execution.actionIndex) else {
            settle(execution, as: .skipped, error: "the rule was changed and no longer has this action", responseStatus: nil, now: now())
            return true
        }
        let outcome: ActionOutcome
        switch rule.actions[execution.actionIndex] {
        case .webhook(let webhook):
            outcome = await deliver(webhook, execution: execution, rule: model, facts: facts, on: database, now: now())
        case .email(let email):
            outcome = await mail(email, execution: execution, rule: model, facts: facts, on: database, now: now())
        case .uem(let action):
            outcome = await command(action, execution: execution, on: database)
            if case .succeeded = outcome {
                // Destructive or not, a UEM command is told to the audit trail with its cause.
                try await writes.run(priority: .urgent) {
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
    func stateChanged(_ trigger: AutomationRule.Trigger, device: DeviceModel?) -> String? {
        guard let device else { return "the device is gone" }
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
