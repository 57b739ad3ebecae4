import Foundation
import MTDCore

/// A trigger as bit sets, for the index: `RuleMatcher.triggers` decides on the document with
/// array lookups and string compares; this decides the same with a few integer operations, so a
/// thousand rules cost an event microseconds. Tests check both agree on every rule and event.
struct CompiledTrigger: Sendable {
    /// Bit i set: the i-th case of the enum (`allCases` order) passes; all bits: no filter.
    var classifications: UInt64
    var threatTypes: UInt64
    var platforms: UInt64
    var modes: UInt64
    /// -1: no minimum.
    var minimumSeverity: Int
    var change: AutomationRule.Change?
    var connectionTo: ConnectionStatus?
    var securityStatusTo: SecurityStatus?
    /// Minutes after midnight (UTC), when the rule has a time-of-day window.
    var window: (from: Int, to: Int)?
    /// A window whose times cannot be read matches nothing (as `RuleMatcher.isWithin` says).
    var unreadableWindow: Bool

    init(_ rule: AutomationRule) {
        let trigger = rule.trigger
        classifications = Self.mask(trigger.classifications, in: ThreatClassification.allCases)
        threatTypes = Self.mask(trigger.threatTypes, in: ThreatType.allCases)
        platforms = Self.mask(trigger.platforms, in: Platform.allCases)
        modes = Self.mask(trigger.deploymentModes, in: DeploymentMode.allCases)
        minimumSeverity = trigger.minimumSeverity.flatMap { Severity.allCases.firstIndex(of: $0) } ?? -1
        change = trigger.change
        connectionTo = trigger.connectionTo
        securityStatusTo = trigger.securityStatusTo
        if let timeOfDay = rule.conditions?.timeOfDay {
            let from = AutomationRule.TimeWindow.minutes(timeOfDay.from), to = AutomationRule.TimeWindow.minutes(timeOfDay.to)
            window = from.flatMap { from in to.map { (from, $0) } }
            unreadableWindow = window == nil
        } else {
            window = nil
            unreadableWindow = false
        }
    }

    static func mask<Value: Equatable>(_ values: [Value]?, in all: [Value]) -> UInt64 {
        guard let values else { return .max }
        var mask: UInt64 = 0
        for value in values {
            if let index = all.firstIndex(of: value), index < 64 { mask |= 1 << UInt64(index) }
        }
        return mask
    }

    static func bit<Value: Equatable>(_ value: Value?, in all: [Value]) -> UInt64 {
        guard let value, let index = all.firstIndex(of: value), index < 64 else { return 0 }
        return 1 << UInt64(index)
    }
}

/// The facts of an event the compiled triggers look at, computed once per event.
struct CompiledEvent {
    var change: AutomationRule.Change?
    var deleted: Bool
    var classification: UInt64
    var threatType: UInt64
    var platform: UInt64
    var mode: UInt64
    var severity: Int
    var connectionChanged: Bool
    var securityChanged: Bool
    var connection: ConnectionStatus?
    var security: SecurityStatus?
    var minute: Int

    init(_ event: AutomationEvent) {
        change = AutomationRule.Change(rawValue: event.change)
        deleted = event.change == "DELETED"
        classification = CompiledTrigger.bit(event.classification, in: ThreatClassification.allCases)
        threatType = CompiledTrigger.bit(event.threatType, in: ThreatType.allCases)
        platform = CompiledTrigger.bit(event.platform, in: Platform.allCases)
        mode = CompiledTrigger.bit(event.mode, in: DeploymentMode.allCases)
        severity = event.severity.flatMap { Severity.allCases.firstIndex(of: $0) } ?? -1
        connectionChanged = event.changedAttributes.contains("connection_status")
        securityChanged = event.changedAttributes.contains("security_status")
        connection = event.connection
        security = event.security
        let seconds = event.createdAt.timeIntervalSince1970.truncatingRemainder(dividingBy: 86_400)
        minute = seconds.isFinite ? Int((seconds < 0 ? seconds + 86_400 : seconds) / 60) : 0
    }
}

extension CompiledTrigger {
    /// What `RuleMatcher.triggers` answers, for a candidate of the right enterprise and kind.
    func matches(_ event: CompiledEvent, kind: AutomationRule.EventKind) -> Bool {
        if let change, change != event.change { return false }
        if event.deleted { return false }
        if platforms != .max, platforms & event.platform == 0 { return false }
        if modes != .max, modes & event.mode == 0 { return false }
        switch kind {
        case .threat:
            if classifications != .max, classifications & event.classification == 0 { return false }
            if minimumSeverity >= 0, event.severity < minimumSeverity { return false }
            if threatTypes != .max, threatTypes & event.threatType == 0 { return false }
        case .device:
            if let connectionTo, !(event.connectionChanged && event.connection == connectionTo) { return false }
            if let securityStatusTo, !(event.securityChanged && event.security == securityStatusTo) { return false }
        }
        if unreadableWindow { return false }
        if let (from, to) = window {
            return from <= to ? (from <= event.minute && event.minute < to) : (event.minute >= from || event.minute < to)
        }
        return true
    }
}
