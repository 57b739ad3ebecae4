import FluentKit
import Foundation
import MTDCore
import MTDStore

/// Daily digests: a rule with `digest` records its triggering events as usual but runs no action
/// per event; once a day at `digest.at` (UTC) one run covers the day before, if anything triggered.
/// A digest run is keyed by the day (its event id is minus the day number since 1970), so it is
/// sent once per day whatever restarts or replicas do, and its actions run in order like any run.
extension Automations {
    static let secondsPerDay = 86_400

    /// Creates the runs of digests whose time has come (each tick).
    public func scheduleDigests(on database: any Database, now: Date) async throws {
        let rules = try await AutomationRuleModel.query(on: database).filter(\.$enabled == true).all()
        for model in rules {
            guard let ruleID = model.id, let rule = try? Self.document(model), let digest = rule.digest,
                  let minutes = AutomationRule.TimeWindow.minutes(digest.at) else { continue }
            guard let end = Self.lastDigestTime(minutesAfterMidnight: minutes, before: now) else { continue }
            let day = Int(end.timeIntervalSince1970) / Self.secondsPerDay
            let key = Self.idempotencyKey(rule: ruleID, event: -day, action: 0)
            guard try await AutomationExecutionModel.query(on: database).filter(\.$idempotencyKey == key).count() == 0 else { continue }
            let start = end.addingTimeInterval(-Double(Self.secondsPerDay))
            let held = try await AutomationTriggerModel.query(on: database).filter(\.$ruleID == ruleID).filter(\.$runs == true)
                .filter(\.$triggeredAt > start).filter(\.$triggeredAt <= end).count()
            guard held > 0 else { continue }
            try await writes.run {
                try await database.transaction { tx in
                    // Another replica (or an earlier tick) may have been first.
                    guard try await AutomationExecutionModel.query(on: tx).filter(\.$idempotencyKey == key).count() == 0 else { return }
                    for (index, action) in rule.actions.enumerated() {
                        let execution = AutomationExecutionModel()
                        execution.enterpriseID = model.enterpriseID
                        execution.ruleID = ruleID
                        execution.ruleVersion = model.version
                        execution.eventID = -day
                        execution.deviceID = nil
                        execution.threatID = nil
                        execution.actionIndex = index
                        execution.actionType = action.kind
                        execution.idempotencyKey = Self.idempotencyKey(rule: ruleID, event: -day, action: index)
                        execution.status = .pending
                        execution.attempts = 0
                        execution.dueAt = end
                        execution.requiresOpenThreat = false
                        execution.createdAt = now
                        try await execution.create(on: tx)
                    }
                }
            }
        }
    }

    /// The latest `HH:MM` (UTC) at or before `now`.
    public static func lastDigestTime(minutesAfterMidnight minutes: Int, before now: Date) -> Date? {
        guard (0..<1_440).contains(minutes), let seconds = Int(exactly: now.timeIntervalSince1970.rounded(.down)) else { return nil }
        let (day, within) = seconds.quotientAndRemainder(dividingBy: secondsPerDay)
        let offset = minutes * 60
        let chosenDay = within >= offset ? day : day - 1
        let (product, overflow) = chosenDay.multipliedReportingOverflow(by: secondsPerDay)
        guard !overflow else { return nil }
        return Date(timeIntervalSince1970: Double(product + offset))
    }
}

/// What one digest run covers: the rule's held events of the day before its time.
struct DigestContent {
    static let limit = 500

    var from: Date
    var to: Date
    var events: [EventModel]
    var devices: [UUID: DeviceModel]
    /// Which device each event triggered the rule for (from the trigger rows).
    var deviceOfEvent: [Int: UUID]
    var total: Int

    static func load(_ execution: AutomationExecutionModel, on database: any Database) async throws -> DigestContent {
        let to = execution.dueAt
        let from = to.addingTimeInterval(-Double(Automations.secondsPerDay))
        let held = try await AutomationTriggerModel.query(on: database).filter(\.$ruleID == execution.ruleID).filter(\.$runs == true)
            .filter(\.$triggeredAt > from).filter(\.$triggeredAt <= to).sort(\.$triggeredAt).all()
        let ids = held.prefix(limit).map(\.eventID)
        let events = try await EventModel.query(on: database).filter(\.$id ~~ ids).sort(\.$id).all()
        let deviceIDs = Set(held.prefix(limit).compactMap(\.deviceID))
        let devices = try await DeviceModel.query(on: database).filter(\.$id ~~ Array(deviceIDs)).all()
        return DigestContent(from: from, to: to, events: events,
                             devices: Dictionary(devices.compactMap { device in device.id.map { ($0, device) } }, uniquingKeysWith: { first, _ in first }),
                             deviceOfEvent: Dictionary(held.compactMap { trigger in trigger.deviceID.map { (trigger.eventID, $0) } }, uniquingKeysWith: { first, _ in first }),
                             total: held.count)
    }

    func device(of event: EventModel) -> DeviceModel? {
        event.id.flatMap { deviceOfEvent[$0] }.flatMap { devices[$0] }
    }

    /// One line per event, as a person reads it.
    func lines() -> [String] {
        events.map { event in
            let summary = WebhookBody.Summary(event: event, device: device(of: event))
            return "\(WebhookBody.timestamp(event.createdAt)) — \(summary.title)"
        }
    }

    var headline: String {
        "\(total) event\(total == 1 ? "" : "s") from \(WebhookBody.timestamp(from)) to \(WebhookBody.timestamp(to))"
    }

    func json(rule: AutomationRuleModel, execution: AutomationExecutionModel) -> [String: Any] {
        [
            "rule": ["id": rule.id?.uuidString.lowercased() ?? "", "name": rule.name, "version": execution.ruleVersion],
            "action": ["index": execution.actionIndex, "idempotency_key": execution.idempotencyKey],
            "digest": [
                "from": WebhookBody.timestamp(from), "to": WebhookBody.timestamp(to), "count": total, "truncated": total > events.count,
                "events": events.map(WebhookBody.lookoutEvent),
            ] as [String: Any],
        ]
    }
}
