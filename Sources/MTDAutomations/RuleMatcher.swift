import Foundation
import MTDCore

/// What a rule looks at in one event of the log: the event's own facts and, for a threat, the
/// facts of its device. Built by `AutomationEvent.init(row:device:)` from the store; the matching
/// below is pure, so a dry run over past events decides exactly as the live consumer does.
public struct AutomationEvent: Sendable, Equatable {
    public var position: Int
    public var enterpriseID: UUID
    public var kind: AutomationRule.EventKind
    public var change: String
    public var createdAt: Date
    public var deviceID: UUID?
    public var threatID: UUID?
    public var classification: ThreatClassification?
    public var severity: Severity?
    public var threatType: ThreatType?
    public var threatStatus: ThreatStatus?
    public var platform: Platform?
    public var mode: DeploymentMode?
    public var connection: ConnectionStatus?
    public var security: SecurityStatus?
    /// DEVICE events: the attributes this change touched (`connection_status`, `security_status`, …).
    public var changedAttributes: [String]

    public init(position: Int, enterpriseID: UUID, kind: AutomationRule.EventKind, change: String, createdAt: Date, deviceID: UUID?,
                threatID: UUID? = nil, classification: ThreatClassification? = nil, severity: Severity? = nil, threatType: ThreatType? = nil,
                threatStatus: ThreatStatus? = nil, platform: Platform? = nil, mode: DeploymentMode? = nil, connection: ConnectionStatus? = nil,
                security: SecurityStatus? = nil, changedAttributes: [String] = []) {
        self.position = position
        self.enterpriseID = enterpriseID
        self.kind = kind
        self.change = change
        self.createdAt = createdAt
        self.deviceID = deviceID
        self.threatID = threatID
        self.classification = classification
        self.severity = severity
        self.threatType = threatType
        self.threatStatus = threatStatus
        self.platform = platform
        self.mode = mode
        self.connection = connection
        self.security = security
        self.changedAttributes = changedAttributes
    }
}

public enum RuleMatcher {
    /// Whether the event starts the rule (its trigger and time-of-day condition; the count, delay and
    /// throttle need history and are decided by `RunPlanner`).
    public static func triggers(_ rule: AutomationRule, on event: AutomationEvent) -> Bool {
        let trigger = rule.trigger
        guard event.kind == trigger.type else { return false }
        if let change = trigger.change, change.rawValue != event.change { return false }
        if event.change == "DELETED" { return false }
        if let platforms = trigger.platforms, !(event.platform.map(platforms.contains) ?? false) { return false }
        if let modes = trigger.deploymentModes, !(event.mode.map(modes.contains) ?? false) { return false }
        switch trigger.type {
        case .threat:
            if let classifications = trigger.classifications, !(event.classification.map(classifications.contains) ?? false) { return false }
            if let minimum = trigger.minimumSeverity, !(event.severity.map { $0 >= minimum } ?? false) { return false }
            if let types = trigger.threatTypes, !(event.threatType.map(types.contains) ?? false) { return false }
        case .device:
            if let target = trigger.connectionTo {
                guard event.changedAttributes.contains("connection_status"), event.connection == target else { return false }
            }
            if let target = trigger.securityStatusTo {
                guard event.changedAttributes.contains("security_status"), event.security == target else { return false }
            }
        }
        if let window = rule.conditions?.timeOfDay, !isWithin(window, at: event.createdAt) { return false }
        return true
    }

    /// Whether `date` (UTC) falls in the window; a window whose start is after its end spans midnight.
    public static func isWithin(_ window: AutomationRule.TimeWindow, at date: Date) -> Bool {
        guard let from = AutomationRule.TimeWindow.minutes(window.from), let to = AutomationRule.TimeWindow.minutes(window.to) else { return false }
        let seconds = date.timeIntervalSince1970.truncatingRemainder(dividingBy: 86_400)
        let minute = Int((seconds < 0 ? seconds + 86_400 : seconds) / 60)
        return from <= to ? (from <= minute && minute < to) : (minute >= from || minute < to)
    }
}

/// Decides, for the events that triggered a rule on one device, which of them make it run: the
/// count within a window, then the per-device throttle. Pure: the caller passes the device's earlier
/// triggering times (`history`) and when the rule last ran for it.
public enum RunPlanner {
    public struct Decision: Sendable, Equatable {
        public var runs: Bool
        /// When the actions are due: at once, or after the "still open" delay.
        public var dueAt: Date
        public var reason: String
    }

    public static func decide(_ rule: AutomationRule, event: AutomationEvent, history: [Date], lastRun: Date?) -> Decision {
        let conditions = rule.conditions
        if let count = conditions?.count, let within = conditions?.withinSeconds {
            let start = event.createdAt.addingTimeInterval(-Double(within))
            let inWindow = history.filter { $0 > start && $0 <= event.createdAt }.count + 1
            guard inWindow >= count else {
                return Decision(runs: false, dueAt: event.createdAt, reason: "\(inWindow) of \(count) events within \(within) s")
            }
        }
        let throttle = rule.effectiveThrottleSeconds
        if let lastRun, throttle > 0, event.createdAt.timeIntervalSince(lastRun) < Double(throttle) {
            return Decision(runs: false, dueAt: event.createdAt, reason: "throttled: ran for this device \(Int(event.createdAt.timeIntervalSince(lastRun))) s before")
        }
        let delay = Double(conditions?.stillOpenAfterSeconds ?? conditions?.stillInStateAfterSeconds ?? 0)
        let waiting = conditions?.stillOpenAfterSeconds != nil ? "due if still open" : "due if still in that state"
        return Decision(runs: true, dueAt: event.createdAt.addingTimeInterval(delay), reason: delay > 0 ? waiting : "triggered")
    }
}
