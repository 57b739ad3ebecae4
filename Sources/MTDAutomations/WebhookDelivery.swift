import AsyncHTTPClient
import Crypto
import FluentKit
import Foundation
import MTDCore
import MTDStore
import NIOCore
import NIOHTTP1

/// Webhook calls: the body in the chosen format, signed as
/// `X-OpenMTD-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with the action's
/// secret. Receivers should refuse a `t` older than 5 minutes (replays) and may drop a repeated
/// `X-OpenMTD-Idempotency-Key` (delivery is at least once: a receiver that answered too late is
/// called again).
extension Automations {
    func deliver(_ webhook: AutomationRule.Webhook, execution: AutomationExecutionModel, rule: AutomationRuleModel,
                 facts: RunFacts, on database: any Database, now: Date) async -> ActionOutcome {
        do {
            try await egress.check(webhook.url)
        } catch {
            return .failed("\(error)", status: nil)
        }
        let body: Data
        do {
            body = execution.eventID < 0
                ? try await WebhookBody.renderDigest(webhook.format, execution: execution, rule: rule, on: database)
                : try WebhookBody.render(webhook.format, execution: execution, rule: rule, event: facts.event(of: execution), device: facts.device(of: execution))
        } catch {
            return .failed("the message could not be built: \(error)", status: nil)
        }
        var request = HTTPClientRequest(url: webhook.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "OpenMTD-Automations/1")
        request.headers.add(name: "X-OpenMTD-Signature", value: WebhookSignature.header(body: body, secret: webhook.secret, at: now))
        request.headers.add(name: "X-OpenMTD-Idempotency-Key", value: execution.idempotencyKey)
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await http.execute(request, timeout: .milliseconds(Int64(min(max(settings.requestTimeoutSeconds, 0.1), 600) * 1000)))
            let status = Int(response.status.code)
            // Read (and bound) the answer so the connection can be reused; its content does not matter.
            _ = try? await response.body.collect(upTo: 64 * 1024)
            guard (200..<300).contains(status) else { return .failed("the receiver answered \(status)", status: status) }
            return .succeeded(status: status)
        } catch {
            return .failed("the request failed: \(error)", status: nil)
        }
    }
}

public enum WebhookSignature {
    /// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
    public static func header(body: Data, secret: String, at date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        return "t=\(seconds),v1=\(hex(body: body, secret: secret, seconds: seconds))"
    }

    public static func hex(body: Data, secret: String, seconds: Int) -> String {
        var message = Data("\(seconds).".utf8)
        message.append(body)
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
        return code.map { String(format: "%02x", $0) }.joined()
    }
}

/// The three message shapes.
enum WebhookBody {
    static func render(_ format: AutomationRule.WebhookFormat, execution: AutomationExecutionModel, rule: AutomationRuleModel,
                       event: EventModel?, device: DeviceModel?) throws -> Data {
        let summary = Summary(event: event, device: device)
        let object: [String: Any]
        switch format {
        case .json:
            object = [
                "rule": ["id": rule.id?.uuidString.lowercased() ?? "", "name": rule.name, "version": execution.ruleVersion],
                "action": ["index": execution.actionIndex, "idempotency_key": execution.idempotencyKey],
                "event": event.map(lookoutEvent) ?? NSNull(),
                "device": device.map(deviceSummary) ?? NSNull(),
            ]
        case .slack:
            object = [
                "text": summary.headline(rule: rule.name),
                "blocks": [
                    ["type": "section", "text": ["type": "mrkdwn", "text": "*\(summary.headline(rule: rule.name))*"]],
                    ["type": "section", "fields": summary.facts.map { ["type": "mrkdwn", "text": "*\($0.0)*\n\($0.1)"] }],
                ],
            ]
        case .teams:
            object = [
                "@type": "MessageCard", "@context": "https://schema.org/extensions",
                "summary": summary.headline(rule: rule.name), "themeColor": summary.color,
                "title": summary.headline(rule: rule.name),
                "sections": [["facts": summary.facts.map { ["name": $0.0, "value": $0.1] }]],
            ]
        }
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    /// A digest run: the day's events in the same three shapes (chat messages list up to 50).
    static func renderDigest(_ format: AutomationRule.WebhookFormat, execution: AutomationExecutionModel, rule: AutomationRuleModel,
                             on database: any Database) async throws -> Data {
        let content = try await DigestContent.load(execution, on: database)
        let title = "Daily digest \"\(rule.name)\": \(content.headline)"
        let lines = Array(content.lines().prefix(50))
        let object: [String: Any]
        switch format {
        case .json:
            object = content.json(rule: rule, execution: execution)
        case .slack:
            object = [
                "text": title,
                "blocks": [
                    ["type": "section", "text": ["type": "mrkdwn", "text": "*\(title)*"]],
                    ["type": "section", "text": ["type": "mrkdwn", "text": lines.isEmpty ? "(none)" : lines.joined(separator: "\n")]],
                ],
            ]
        case .teams:
            object = [
                "@type": "MessageCard", "@context": "https://schema.org/extensions", "summary": title, "themeColor": "607D8B", "title": title,
                "sections": [["text": lines.joined(separator: "<br>")]],
            ]
        }
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    /// The event as the Mobile Risk API shows it: common fields plus the type block.
    static func lookoutEvent(_ event: EventModel) -> [String: Any] {
        var object: [String: Any] = [
            "id": String(event.id ?? 0),
            "enterprise_guid": event.enterpriseID.uuidString.lowercased(),
            "created_time": timestamp(event.createdAt),
            "type": event.type,
            "change_type": event.changeType,
            "actor": ["type": event.actorType, "guid": event.actorID.map { $0 as Any } ?? NSNull()] as [String: Any],
            "target": ["type": event.targetType, "guid": event.targetID],
        ]
        if let block = try? JSONSerialization.jsonObject(with: Data(event.payload.utf8)) {
            object[event.type.lowercased()] = block
        }
        return object
    }

    static func deviceSummary(_ device: DeviceModel) -> [String: Any] {
        [
            "guid": device.id?.uuidString.lowercased() ?? "",
            "platform": device.platform,
            "mode": device.mode.map { $0 as Any } ?? NSNull(),
            "email": device.email.map { $0 as Any } ?? NSNull(),
            "udid": device.udid.map { $0 as Any } ?? NSNull(),
            "external_id": device.externalID.map { $0 as Any } ?? NSNull(),
            "security_status": device.securityStatus.rawValue,
            "connection_status": device.connectionStatus.rawValue,
            "activation_status": device.activationStatus.rawValue,
        ]
    }

    static func timestamp(_ date: Date) -> String {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(secondsFromGMT: 0) ?? .gmt)
        return date.formatted(style).replacingOccurrences(of: "Z", with: "+00:00")
    }

    /// What a person reads in a chat message.
    struct Summary {
        var title: String
        var facts: [(String, String)]
        var color: String

        init(event: EventModel?, device: DeviceModel?) {
            let who = device.map { $0.email ?? $0.udid ?? $0.id?.uuidString.lowercased() ?? "a device" } ?? "a device"
            var facts: [(String, String)] = []
            if let device {
                facts.append(("Device", who))
                facts.append(("Platform", device.platform))
                facts.append(("Risk", device.securityStatus.rawValue))
                facts.append(("Connection", device.connectionStatus.rawValue))
            }
            color = "2E7D32"
            title = "OpenMTD event on \(who)"
            guard let event else {
                self.facts = facts
                return
            }
            if event.type == EventType.threat.rawValue,
               let threat = try? JSONDecoder().decode(ThreatPayload.self, from: Data(event.payload.utf8)) {
                let classification = threat.classifications.first ?? threat.type
                let verb = event.changeType == ChangeType.created.rawValue ? "detected" : "now \(threat.status)"
                title = "\(threat.severity) threat \(classification) \(verb) on \(who)"
                facts.insert(("Threat", "\(classification) (\(threat.type)) about \(threat.subject)"), at: 0)
                color = ["HIGH": "D70000", "MEDIUM": "F57C00", "LOW": "FBC02D"][threat.severity] ?? "607D8B"
            } else if event.type == EventType.device.rawValue,
                      let payload = try? JSONDecoder().decode(DevicePayload.self, from: Data(event.payload.utf8)) {
                let changed = (payload.changed_attributes ?? []).joined(separator: ", ")
                title = "Device \(who) changed: \(changed.isEmpty ? event.changeType : changed)"
            }
            facts.append(("When", timestamp(event.createdAt)))
            self.facts = facts
        }

        func headline(rule: String) -> String { "\(title) (rule \"\(rule)\")" }
    }
}
