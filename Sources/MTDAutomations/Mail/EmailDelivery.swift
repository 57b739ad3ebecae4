import FluentKit
import Foundation
import MTDCore
import MTDStore

/// E-mail actions: the recipients the action names, the message for the event (remediation steps
/// per classification), and one SMTP session through the enterprise's relay.
extension Automations {
    func mail(_ email: AutomationRule.Email, execution: AutomationExecutionModel, rule: AutomationRuleModel,
              facts: RunFacts, on database: any Database, now: Date) async -> ActionOutcome {
        do {
            guard let settings = try await smtpSettings(enterpriseID: execution.enterpriseID, on: database)?.settings else {
                return .failed("no SMTP relay is configured: an owner sets one in Settings > E-mail (PUT /api/v1/settings/smtp)", status: nil)
            }
            let event = facts.event(of: execution)
            let device = facts.device(of: execution)
            let recipients: [String]
            switch email.to {
            case .deviceUser:
                guard let address = device?.email, MailMessage.isAddress(address) else {
                    return .failed("the device has no usable user e-mail address (the agent sends one at activation)", status: nil)
                }
                recipients = [address]
            case .admins:
                recipients = try await AdminModel.query(on: database).filter(\.$enterprise.$id == execution.enterpriseID)
                    .filter(\.$role ~~ ["owner", "analyst"]).all().map(\.email).filter(MailMessage.isAddress)
                guard !recipients.isEmpty else { return .failed("the enterprise has no owner or analyst with an e-mail address", status: nil) }
            case .addresses:
                recipients = email.addresses ?? []
            }
            let composed = execution.eventID < 0
                ? MailComposer.digest(try await DigestContent.load(execution, on: database), ruleName: rule.name, note: email.note)
                : MailComposer.compose(email, event: event, device: device, ruleName: rule.name)
            let message = MailMessage(from: settings.from, to: recipients, subject: composed.subject, body: composed.body,
                                      idempotencyKey: execution.idempotencyKey)
            try await SMTPClient(settings: settings, egress: egress).send(message, now: now)
            return .succeeded(status: nil)
        } catch let failure as SMTPFailure {
            return .failed(failure.message, status: failure.code)
        } catch {
            return .failed("the e-mail could not be prepared: \(error)", status: nil)
        }
    }
}

/// The words of an e-mail action.
enum MailComposer {
    static func digest(_ content: DigestContent, ruleName: String, note: String?) -> (subject: String, body: String) {
        var lines = ["Daily digest of the rule \"\(ruleName)\": \(content.headline).", ""]
        if let note, !note.isEmpty { lines += [note, ""] }
        lines += content.lines()
        if content.total > content.events.count { lines += ["", "… and \(content.total - content.events.count) more; see the console's threats page."] }
        lines += ["", "— OpenMTD"]
        return ("[OpenMTD] Daily digest: \(content.total) event\(content.total == 1 ? "" : "s") (\(ruleName))", lines.joined(separator: "\n") + "\n")
    }

    static func compose(_ email: AutomationRule.Email, event: EventModel?, device: DeviceModel?, ruleName: String) -> (subject: String, body: String) {
        let threat = event.flatMap { $0.type == EventType.threat.rawValue ? try? JSONDecoder().decode(ThreatPayload.self, from: Data($0.payload.utf8)) : nil }
        let classification = threat?.classifications.first.flatMap(ThreatClassification.init(rawValue:))
        let template = RemediationTemplates.template(for: classification)
        var lines: [String] = []
        let subject: String
        if email.to == .deviceUser {
            subject = threat != nil ? "Action needed on your phone: \(template.title)" : "A message about your phone from your security team"
            lines.append("Hello,")
            lines.append("")
            lines.append(threat != nil ? "OpenMTD, which protects your work phone, found \(template.title)." : "OpenMTD, which protects your work phone, noticed a change that needs your attention.")
            if let threat, !threat.subject.isEmpty { lines.append("What it found: \(threat.subject)") }
        } else {
            let who = device.map { $0.email ?? $0.udid ?? $0.id?.uuidString.lowercased() ?? "a device" } ?? "a device"
            let summary = WebhookBody.Summary(event: event, device: device)
            subject = "[OpenMTD] \(summary.title)"
            lines.append("\(summary.title), matched by the rule \"\(ruleName)\".")
            lines.append("")
            for (name, value) in summary.facts { lines.append("\(name): \(value)") }
            if threat != nil { lines.append(""); lines.append("What the user of \(who) is asked to do:") }
        }
        if let note = email.note, !note.isEmpty {
            lines.append("")
            lines.append(note)
        }
        if threat != nil || email.to == .deviceUser {
            lines.append("")
            for (index, step) in template.steps.enumerated() { lines.append("\(index + 1). \(step)") }
        }
        lines.append("")
        lines.append("— OpenMTD (automation rule \"\(ruleName)\")")
        return (subject, lines.joined(separator: "\n") + "\n")
    }
}
