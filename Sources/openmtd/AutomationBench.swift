import Foundation
import MTDAutomations
import MTDCore

/// `openmtd bench automations`: rule evaluation, the pure part of automations, on one core. A
/// thousand rules shaped like real ones (threat rules by classification and severity, a few on any
/// threat of a type, device rules on connection and risk transitions) against a mix of THREAT and
/// DEVICE events; reports events matched per second and the triggers found.
enum AutomationBench {
    struct Figures: Codable {
        var rules: Int
        var events: Int
        var triggers: Int
        var seconds: Double
        var eventsPerSecond: Double
    }

    static func run(rules ruleCount: Int, events eventCount: Int, rounds: Int) -> Figures {
        var random = SystemRandomNumberGenerator()
        let enterprise = UUID()
        let classifications = ThreatClassification.allCases
        let severities: [Severity] = [.low, .medium, .high]
        var rules: [(enterpriseID: UUID, tag: Int, rule: AutomationRule)] = []
        for index in 0..<ruleCount {
            let share = index % 10
            let trigger: AutomationRule.Trigger
            switch share {
            case 0..<6:
                let picked = (0..<Int.random(in: 1...3, using: &random)).map { _ in classifications.randomElement(using: &random) ?? .surveillanceware }
                trigger = .init(type: .threat, change: .created, classifications: picked, minimumSeverity: severities.randomElement(using: &random))
            case 6:
                trigger = .init(type: .threat, threatTypes: [ThreatType.allCases.randomElement(using: &random) ?? .application], platforms: [.android])
            case 7, 8:
                trigger = .init(type: .device, connectionTo: [ConnectionStatus.disconnected, .unreachable].randomElement(using: &random))
            default:
                trigger = .init(type: .device, securityStatusTo: .threatsHigh)
            }
            let rule = AutomationRule(name: "rule \(index)", enabled: true, trigger: trigger,
                                      actions: [.webhook(.init(url: "https://soar.example.com/hook", secret: "bench-secret-0123456789"))])
            rules.append((enterpriseID: enterprise, tag: index, rule: rule))
        }
        let index = RuleIndex(rules)
        let now = Date()
        let events: [AutomationEvent] = (0..<eventCount).map { position in
            if position % 10 < 7 {
                let classification = classifications.randomElement(using: &random) ?? .surveillanceware
                return AutomationEvent(position: position, enterpriseID: enterprise, kind: .threat, change: "CREATED", createdAt: now, deviceID: UUID(),
                                       classification: classification, severity: severities.randomElement(using: &random),
                                       threatType: ThreatType.allCases.randomElement(using: &random), threatStatus: .open, platform: .android, mode: .embedded)
            }
            let attribute = ["connection_status", "security_status", "os_version"].randomElement(using: &random) ?? "os_version"
            return AutomationEvent(position: position, enterpriseID: enterprise, kind: .device, change: "UPDATED", createdAt: now, deviceID: UUID(),
                                   platform: .ios, mode: .standalone, connection: ConnectionStatus.allCases.randomElement(using: &random),
                                   security: SecurityStatus.allCases.randomElement(using: &random), changedAttributes: [attribute])
        }
        var best = Double.infinity
        var triggers = 0
        for _ in 0..<max(rounds, 1) {
            let start = DispatchTime.now()
            var found = 0
            for event in events { found += index.triggeredIndices(by: event).count }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            best = min(best, seconds)
            triggers = found
        }
        return Figures(rules: ruleCount, events: eventCount, triggers: triggers, seconds: best, eventsPerSecond: Double(eventCount) / max(best, 1e-9))
    }
}
