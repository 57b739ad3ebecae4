import FluentKit
import Foundation
import MTDCore
import MTDStore

/// What a fetch of due executions needs from the database, read with one query per table (their
/// rules, events, devices and threats) instead of a few queries per action: at hundreds of actions
/// a second those small reads queued behind the check-ins' and made up most of an action's time.
struct RunFacts: Sendable {
    var rules: [UUID: AutomationRuleModel] = [:]
    var events: [Int: EventModel] = [:]
    var devices: [UUID: DeviceModel] = [:]
    var threatStatuses: [UUID: ThreatStatus] = [:]
    /// The status of each run's previous action, keyed by that action's idempotency key.
    var previousStatuses: [String: ExecutionStatus] = [:]

    static func load(_ executions: [AutomationExecutionModel], on database: any Database) async throws -> RunFacts {
        var facts = RunFacts()
        guard !executions.isEmpty else { return facts }
        let ruleIDs = Array(Set(executions.map(\.ruleID)))
        for rule in try await AutomationRuleModel.query(on: database).filter(\.$id ~~ ruleIDs).all() {
            if let id = rule.id { facts.rules[id] = rule }
        }
        let eventIDs = Array(Set(executions.map(\.eventID).filter { $0 > 0 }))
        if !eventIDs.isEmpty {
            for event in try await EventModel.query(on: database).filter(\.$id ~~ eventIDs).all() {
                if let id = event.id { facts.events[id] = event }
            }
        }
        let deviceIDs = Array(Set(executions.compactMap(\.deviceID)))
        if !deviceIDs.isEmpty {
            for device in try await DeviceModel.query(on: database).filter(\.$id ~~ deviceIDs).all() {
                if let id = device.id { facts.devices[id] = device }
            }
        }
        let threatIDs = Array(Set(executions.filter(\.requiresOpenThreat).compactMap(\.threatID)))
        if !threatIDs.isEmpty {
            for threat in try await ThreatModel.query(on: database).filter(\.$id ~~ threatIDs).all() {
                if let id = threat.id { facts.threatStatuses[id] = threat.status }
            }
        }
        let previousKeys = executions.filter { $0.actionIndex > 0 }.map {
            Automations.idempotencyKey(rule: $0.ruleID, event: $0.eventID, action: $0.actionIndex - 1)
        }
        if !previousKeys.isEmpty {
            for previous in try await AutomationExecutionModel.query(on: database).filter(\.$idempotencyKey ~~ previousKeys).all() {
                facts.previousStatuses[previous.idempotencyKey] = previous.status
            }
        }
        return facts
    }

    func event(of execution: AutomationExecutionModel) -> EventModel? { events[execution.eventID] }
    func device(of execution: AutomationExecutionModel) -> DeviceModel? { execution.deviceID.flatMap { devices[$0] } }
}
