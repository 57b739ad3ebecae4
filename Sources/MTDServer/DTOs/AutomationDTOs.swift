import Foundation
import MTDAutomations
import MTDServices
import Vapor

struct AutomationList: Content {
    var automations: [AutomationSummary]
}

/// A rule as the admin API shows it: the document, with each webhook secret cut to a hint.
struct AutomationSummary: Content {
    var id: UUID
    var name: String
    var enabled: Bool
    var owner: String
    var version: Int
    var createdAt: Date
    var updatedAt: Date
    var trigger: AutomationRule.Trigger
    var conditions: AutomationRule.Conditions?
    var actions: [AutomationRule.Action]
    var throttleSeconds: Int
    var digest: AutomationRule.Digest?

    /// What a saved secret reads as: nothing of it (a PUT must send the secret again).
    static let hiddenSecret = "(hidden)"

    init(_ model: AutomationRuleModel) throws {
        let rule = try Automations.document(model)
        id = try model.requireID()
        name = model.name
        enabled = model.enabled
        owner = model.owner
        version = model.version
        createdAt = model.createdAt
        updatedAt = model.updatedAt
        trigger = rule.trigger
        conditions = rule.conditions
        actions = rule.actions.map { action in
            switch action {
            case .webhook(var webhook):
                webhook.secret = AutomationSummary.hiddenSecret
                return .webhook(webhook)
            case .uem, .email:
                return action
            }
        }
        throttleSeconds = rule.effectiveThrottleSeconds
        digest = rule.digest
    }
}

struct ExecutionList: Content {
    var executions: [ExecutionSummary]
}

struct ExecutionSummary: Content {
    var id: UUID
    var ruleId: UUID
    var ruleVersion: Int
    var eventId: Int
    var deviceId: UUID?
    var threatId: UUID?
    var actionIndex: Int
    var actionType: String
    var idempotencyKey: String
    var status: String
    var attempts: Int
    var dueAt: Date
    var lastError: String?
    var responseStatus: Int?
    var createdAt: Date
    var completedAt: Date?

    init(_ model: AutomationExecutionModel) throws {
        id = try model.requireID()
        ruleId = model.ruleID
        ruleVersion = model.ruleVersion
        eventId = model.eventID
        deviceId = model.deviceID
        threatId = model.threatID
        actionIndex = model.actionIndex
        actionType = model.actionType
        idempotencyKey = model.idempotencyKey
        status = model.status.rawValue
        attempts = model.attempts
        dueAt = model.dueAt
        lastError = model.lastError
        responseStatus = model.responseStatus
        createdAt = model.createdAt
        completedAt = model.completedAt
    }
}

extension DryRunResult: Content {}

/// The relay as admins see it: the password only as "(hidden)" when one is stored.
struct SMTPSettingsView: Content {
    struct Relay: Content {
        var host: String
        var port: Int
        var security: String
        var username: String?
        var password: String?
        var from: String
        var trustedCertificatesPEM: String?
        var timeoutSeconds: Double
    }

    var configured: Bool
    var settings: Relay?
    var updatedAt: Date?
    var updatedBy: String?

    init(_ stored: (settings: SMTPSettings, updatedAt: Date, updatedBy: String)?) {
        configured = stored != nil
        settings = stored.map {
            Relay(host: $0.settings.host, port: $0.settings.port, security: $0.settings.security.rawValue, username: $0.settings.username,
                  password: $0.settings.password == nil ? nil : AutomationSummary.hiddenSecret, from: $0.settings.from,
                  trustedCertificatesPEM: $0.settings.trustedCertificatesPEM, timeoutSeconds: $0.settings.timeoutSeconds)
        }
        updatedAt = stored?.updatedAt
        updatedBy = stored?.updatedBy
    }
}

struct SMTPTestResult: Content {
    var sent: Bool
    var to: String
}
