import Foundation
import MTDCore

/// The enabled rules of a batch, indexed so that an event is matched only against the rules that
/// could fire on it: by enterprise and event kind, then THREAT rules by classification and DEVICE
/// rules by the attribute transition they wait for. With a thousand rules an event typically meets
/// a handful, decided by the rule's compiled trigger (`CompiledTrigger`, the same answer as
/// `RuleMatcher.triggers`, which the tests check).
public struct RuleIndex<Tag: Sendable>: Sendable {
    private struct Bucket: Sendable {
        var byClassification: [ThreatClassification: [Int]] = [:]
        /// THREAT rules without a classification filter, and DEVICE rules without a transition filter.
        var unfiltered: [Int] = []
        var byConnection: [ConnectionStatus: [Int]] = [:]
        var bySecurity: [SecurityStatus: [Int]] = [:]
    }

    private struct Key: Hashable, Sendable {
        var enterpriseID: UUID
        var kind: AutomationRule.EventKind
    }

    public let rules: [(tag: Tag, rule: AutomationRule)]
    private let compiled: [CompiledTrigger]
    private var buckets: [Key: Bucket] = [:]

    public init(_ rules: [(enterpriseID: UUID, tag: Tag, rule: AutomationRule)]) {
        self.rules = rules.map { (tag: $0.tag, rule: $0.rule) }
        compiled = rules.map { CompiledTrigger($0.rule) }
        for (index, entry) in rules.enumerated() {
            let trigger = entry.rule.trigger
            var bucket = buckets[Key(enterpriseID: entry.enterpriseID, kind: trigger.type), default: Bucket()]
            switch trigger.type {
            case .threat:
                if let classifications = trigger.classifications {
                    for classification in Set(classifications) { bucket.byClassification[classification, default: []].append(index) }
                } else {
                    bucket.unfiltered.append(index)
                }
            case .device:
                // A rule waiting for both transitions is reached through one of them; the matcher checks the other.
                if let connection = trigger.connectionTo {
                    bucket.byConnection[connection, default: []].append(index)
                } else if let security = trigger.securityStatusTo {
                    bucket.bySecurity[security, default: []].append(index)
                } else {
                    bucket.unfiltered.append(index)
                }
            }
            buckets[Key(enterpriseID: entry.enterpriseID, kind: trigger.type)] = bucket
        }
    }

    public var isEmpty: Bool { rules.isEmpty }

    /// The rules `event` triggers, in the order they were given.
    public func triggered(by event: AutomationEvent) -> [(tag: Tag, rule: AutomationRule)] {
        triggeredIndices(by: event).map { rules[$0] }
    }

    /// Positions in `rules` of the rules `event` triggers, ascending.
    public func triggeredIndices(by event: AutomationEvent) -> [Int] {
        guard let bucket = buckets[Key(enterpriseID: event.enterpriseID, kind: event.kind)] else { return [] }
        let facts = CompiledEvent(event)
        var matched: [Int] = []
        func consider(_ list: [Int]) {
            for index in list where compiled[index].matches(facts, kind: event.kind) { matched.append(index) }
        }
        consider(bucket.unfiltered)
        var lists = 1
        switch event.kind {
        case .threat:
            if let classification = event.classification, let list = bucket.byClassification[classification] {
                consider(list)
                lists += 1
            }
        case .device:
            if facts.connectionChanged, let connection = event.connection, let list = bucket.byConnection[connection] {
                consider(list)
                lists += 1
            }
            if facts.securityChanged, let security = event.security, let list = bucket.bySecurity[security] {
                consider(list)
                lists += 1
            }
        }
        if lists > 1, matched.count > 1 { matched.sort() }
        return matched
    }
}
