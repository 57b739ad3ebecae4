import Foundation
import MTDCore

/// Starting points for the rules security teams ask for first (`GET /api/v1/automations/templates`,
/// the console's "New from template"). Each is a complete, valid document; the ones that reach a
/// third party carry placeholders (a chat URL, a secret) the admin replaces before saving, and the
/// wipe carries its confirmation, so saving it is still an owner's explicit decision.
public enum RuleTemplates {
    public struct Template: Sendable {
        public var id: String
        public var title: String
        public var description: String
        public var rule: AutomationRule
    }

    public static let chatURLPlaceholder = "https://hooks.slack.com/services/REPLACE/WITH/YOURS"
    public static let secretPlaceholder = "replace-with-a-long-random-secret"

    public static let all: [Template] = [
        Template(
            id: "notify-user-stalkerware",
            title: "Tell the user about stalkerware",
            description: "When stalkerware or spyware is found, e-mail the device's user safe steps (not to remove it alone) and tell the admins.",
            rule: AutomationRule(
                name: "Stalkerware: tell the user and the security team", enabled: true,
                trigger: .init(type: .threat, change: .created, classifications: [.surveillanceware, .spyware]),
                actions: [.email(.init(to: .deviceUser)), .email(.init(to: .admins))])),
        Template(
            id: "lock-on-high",
            title: "Lock on HIGH risk",
            description: "When a device's risk turns HIGH, show the user a message and lock the device through the UEM.",
            rule: AutomationRule(
                name: "Lock devices at HIGH risk", enabled: true,
                trigger: .init(type: .device, securityStatusTo: .threatsHigh),
                actions: [
                    .uem(.init(command: .message, message: "Your phone was locked because OpenMTD found a serious threat. Unlock it and open the OpenMTD agent to see what to do.")),
                    .uem(.init(command: .lock)),
                ])),
        Template(
            id: "wipe-unresolved-high",
            title: "Enterprise wipe if HIGH stays unresolved for 24 h",
            description: "A HIGH threat still open a day after it was found removes corporate data (enterprise wipe). Owners only; the rule confirms the wipe by name.",
            rule: AutomationRule(
                name: "Enterprise wipe after 24 h of an unresolved HIGH threat", enabled: true,
                trigger: .init(type: .threat, change: .created, minimumSeverity: .high),
                conditions: .init(stillOpenAfterSeconds: 86_400),
                actions: [.uem(.init(command: .enterpriseWipe, confirm: AutomationRule.UEMCommand.enterpriseWipe.rawValue))])),
        Template(
            id: "chat-alert-high",
            title: "Chat alert on any HIGH threat",
            description: "Post every HIGH threat to a Slack channel (or Teams: change the format) through an incoming webhook.",
            rule: AutomationRule(
                name: "HIGH threats to the security channel", enabled: true,
                trigger: .init(type: .threat, change: .created, minimumSeverity: .high),
                actions: [.webhook(.init(url: chatURLPlaceholder, secret: secretPlaceholder, format: .slack))],
                throttleSeconds: 0)),
        Template(
            id: "fail-closed-silent",
            title: "Fail closed on silence",
            description: "A device whose agent went quiet (unreachable, and still silent two days later: three days with the default thresholds) is reported at HIGH threat level, so UEM compliance turns it non-compliant, and tagged for smart groups that exclude it from corporate access.",
            rule: AutomationRule(
                name: "Fail closed: silent devices lose access", enabled: true,
                trigger: .init(type: .device, connectionTo: .unreachable),
                conditions: .init(stillInStateAfterSeconds: 2 * 86_400),
                actions: [.uem(.init(command: .setThreatLevel, level: .high)), .uem(.init(command: .addTag, tag: "MTD – Silent"))],
                throttleSeconds: 0)),
        Template(
            id: "daily-digest",
            title: "Daily digest of HIGH and MEDIUM threats",
            description: "One e-mail a day to the admins with the HIGH and MEDIUM threats found that day (up to 500), instead of one per threat.",
            rule: AutomationRule(
                name: "Daily digest of threats", enabled: true,
                trigger: .init(type: .threat, change: .created, minimumSeverity: .medium),
                actions: [.email(.init(to: .admins))],
                digest: .init(at: "08:00"))),
    ]
}
