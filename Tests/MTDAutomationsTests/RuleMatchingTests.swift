import Foundation
import MTDAutomations
import MTDCore
import Testing

/// The pure half of automations: which events start a rule, and which of those make it run.
@Suite struct RuleMatchingTests {
    static let enterprise = UUID()
    static let hook = AutomationRule.Action.webhook(.init(url: "https://soar.example.com/hook", secret: "a-secret-of-16-chars"))

    static func threat(_ classification: ThreatClassification, _ severity: Severity, at date: Date = Date(timeIntervalSince1970: 1_800_000_000),
                       change: String = "CREATED", device: UUID = UUID()) -> AutomationEvent {
        AutomationEvent(position: 1, enterpriseID: enterprise, kind: .threat, change: change, createdAt: date, deviceID: device,
                        classification: classification, severity: severity, threatType: .application, threatStatus: .open, platform: .android, mode: .embedded)
    }

    static func rule(_ trigger: AutomationRule.Trigger, conditions: AutomationRule.Conditions? = nil, throttle: Int? = nil) -> AutomationRule {
        AutomationRule(name: "r", enabled: true, trigger: trigger, conditions: conditions, actions: [hook], throttleSeconds: throttle)
    }

    @Test func triggersHonourEveryFilter() {
        let stalkerware = Self.rule(.init(type: .threat, change: .created, classifications: [.surveillanceware], minimumSeverity: .medium, platforms: [.android]))
        #expect(RuleMatcher.triggers(stalkerware, on: Self.threat(.surveillanceware, .high)))
        #expect(!RuleMatcher.triggers(stalkerware, on: Self.threat(.surveillanceware, .low)), "below the minimum severity")
        #expect(!RuleMatcher.triggers(stalkerware, on: Self.threat(.rootJailbreak, .high)), "another classification")
        #expect(!RuleMatcher.triggers(stalkerware, on: Self.threat(.surveillanceware, .high, change: "UPDATED")), "not an opened threat")
        var ios = Self.threat(.surveillanceware, .high)
        ios.platform = .ios
        #expect(!RuleMatcher.triggers(stalkerware, on: ios), "another platform")
        let disconnected = Self.rule(.init(type: .device, connectionTo: .disconnected))
        let quiet = AutomationEvent(position: 2, enterpriseID: Self.enterprise, kind: .device, change: "UPDATED", createdAt: Date(), deviceID: UUID(),
                                    connection: .disconnected, changedAttributes: ["connection_status"])
        #expect(RuleMatcher.triggers(disconnected, on: quiet))
        var unrelated = quiet
        unrelated.changedAttributes = ["os_version"]
        #expect(!RuleMatcher.triggers(disconnected, on: unrelated), "still disconnected is no transition")
    }

    @Test func timeOfDayWindowsMaySpanMidnight() {
        let night = AutomationRule.TimeWindow(from: "22:00", to: "06:00")
        let day = AutomationRule.TimeWindow(from: "08:00", to: "18:00")
        let midnight = Date(timeIntervalSince1970: 1_800_000_000 - 1_800_000_000.truncatingRemainder(dividingBy: 86_400))
        #expect(RuleMatcher.isWithin(night, at: midnight.addingTimeInterval(23 * 3_600)))
        #expect(RuleMatcher.isWithin(night, at: midnight.addingTimeInterval(5 * 3_600)))
        #expect(!RuleMatcher.isWithin(night, at: midnight.addingTimeInterval(12 * 3_600)))
        #expect(RuleMatcher.isWithin(day, at: midnight.addingTimeInterval(8 * 3_600)))
        #expect(!RuleMatcher.isWithin(day, at: midnight.addingTimeInterval(18 * 3_600)), "the end is not in the window")
        #expect(AutomationRule.TimeWindow.minutes("24:00") == nil)
        #expect(AutomationRule.TimeWindow.minutes("7:30") == nil)
        #expect(AutomationRule.TimeWindow.minutes("07:30") == 450)
    }

    @Test func countThrottleAndDelayDecideTheRun() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let third = Self.rule(.init(type: .threat), conditions: .init(count: 3, withinSeconds: 600), throttle: 0)
        let event = Self.threat(.surveillanceware, .high, at: start)
        #expect(!RunPlanner.decide(third, event: event, history: [start.addingTimeInterval(-60)], lastRun: nil).runs)
        #expect(RunPlanner.decide(third, event: event, history: [start.addingTimeInterval(-60), start.addingTimeInterval(-30)], lastRun: nil).runs)
        #expect(!RunPlanner.decide(third, event: event, history: [start.addingTimeInterval(-900), start.addingTimeInterval(-30)], lastRun: nil).runs,
                "one of them is outside the window")
        let hourly = Self.rule(.init(type: .threat))
        #expect(!RunPlanner.decide(hourly, event: event, history: [], lastRun: start.addingTimeInterval(-600)).runs, "the default throttle is an hour")
        #expect(RunPlanner.decide(hourly, event: event, history: [], lastRun: start.addingTimeInterval(-3_601)).runs)
        let delayed = Self.rule(.init(type: .threat, change: .created), conditions: .init(stillOpenAfterSeconds: 86_400))
        #expect(RunPlanner.decide(delayed, event: event, history: [], lastRun: nil).dueAt == start.addingTimeInterval(86_400))
    }

    @Test func theIndexFindsExactlyWhatMatchingEveryRuleFinds() {
        var random = SystemRandomNumberGenerator()
        let other = UUID()
        var rules: [(enterpriseID: UUID, tag: Int, rule: AutomationRule)] = []
        for index in 0..<400 {
            let trigger: AutomationRule.Trigger
            switch index % 5 {
            case 0: trigger = .init(type: .threat, classifications: [ThreatClassification.allCases.randomElement(using: &random) ?? .surveillanceware])
            case 1: trigger = .init(type: .threat, minimumSeverity: .medium)
            case 2: trigger = .init(type: .device, connectionTo: ConnectionStatus.allCases.randomElement(using: &random))
            case 3: trigger = .init(type: .device, connectionTo: .disconnected, securityStatusTo: .threatsHigh)
            default: trigger = .init(type: .device)
            }
            // Every other filter at random, so the compiled triggers are checked against the matcher on all of them.
            var full = trigger
            if Bool.random(using: &random) { full.change = AutomationRule.Change.allCases.randomElement(using: &random) }
            if Int.random(in: 0..<3, using: &random) == 0 { full.platforms = [Platform.allCases.randomElement(using: &random) ?? .ios] }
            if Int.random(in: 0..<3, using: &random) == 0 { full.deploymentModes = [DeploymentMode.allCases.randomElement(using: &random) ?? .embedded] }
            if full.type == .threat, Int.random(in: 0..<3, using: &random) == 0 { full.threatTypes = [ThreatType.allCases.randomElement(using: &random) ?? .os] }
            if full.type == .threat, Int.random(in: 0..<3, using: &random) == 0 { full.minimumSeverity = Severity.allCases.randomElement(using: &random) }
            let windows: [AutomationRule.TimeWindow?] = [nil, nil, .init(from: "08:00", to: "18:00"), .init(from: "22:00", to: "06:00")]
            let conditions = (windows.randomElement(using: &random) ?? nil).map { AutomationRule.Conditions(timeOfDay: $0) }
            rules.append((enterpriseID: index % 7 == 0 ? other : Self.enterprise, tag: index, rule: Self.rule(full, conditions: conditions)))
        }
        let index = RuleIndex(rules)
        for position in 0..<2_000 {
            var event = position % 2 == 0
                ? Self.threat(ThreatClassification.allCases.randomElement(using: &random) ?? .adware, Severity.allCases.randomElement(using: &random) ?? .low)
                : AutomationEvent(position: position, enterpriseID: Self.enterprise, kind: .device, change: "UPDATED", createdAt: Date(), deviceID: UUID(),
                                  connection: ConnectionStatus.allCases.randomElement(using: &random), security: SecurityStatus.allCases.randomElement(using: &random),
                                  changedAttributes: [["connection_status"], ["security_status"], ["connection_status", "security_status"], ["os_version"]]
                                      .randomElement(using: &random) ?? [])
            if position % 11 == 0 { event.enterpriseID = other }
            event.change = ["CREATED", "UPDATED", "DELETED"].randomElement(using: &random) ?? "CREATED"
            event.platform = Platform.allCases.randomElement(using: &random)
            event.mode = Bool.random(using: &random) ? DeploymentMode.allCases.randomElement(using: &random) : nil
            if event.kind == .threat { event.threatType = ThreatType.allCases.randomElement(using: &random) }
            event.createdAt = Date(timeIntervalSince1970: 1_800_000_000 + Double.random(in: 0..<86_400, using: &random))
            let expected = rules.filter { $0.enterpriseID == event.enterpriseID && RuleMatcher.triggers($0.rule, on: event) }.map(\.tag)
            #expect(index.triggered(by: event).map(\.tag) == expected)
        }
    }

    @Test func documentsAreReadStrictly() throws {
        let good = #"{"name":"n","trigger":{"type":"THREAT"},"actions":[{"type":"webhook","url":"https://x.example/h","secret":"0123456789abcdef"}]}"#
        let rule = try AutomationRule.decode(Data(good.utf8))
        #expect(rule.enabled, "enabled by default")
        #expect(throws: DocumentError(path: "$.trigger.classifications", message: "an empty list matches nothing; leave the field out to match all")) {
            try AutomationRule.decode(Data(#"{"name":"n","trigger":{"type":"THREAT","classifications":[]},"actions":[{"type":"webhook","url":"https://x.example/h","secret":"0123456789abcdef"}]}"#.utf8))
        }
        // What a rule stores reads back the same.
        let again = try AutomationRule.decode(try JSONEncoder().encode(rule))
        #expect(again == rule)
    }

    @Test func signaturesAreHMACOfTimeAndBody() {
        // Known answer, computed independently: printf '1800000000.{}' | openssl dgst -sha256 -hmac 'a-secret-of-16-chars'
        let header = WebhookSignature.header(body: Data("{}".utf8), secret: "a-secret-of-16-chars", at: Date(timeIntervalSince1970: 1_800_000_000))
        #expect(header == "t=1800000000,v1=8c14ae2d8b182c840a1a4fb1133c3d2354e64984353f3e5f9d35b33d7791c93c")
    }
}
