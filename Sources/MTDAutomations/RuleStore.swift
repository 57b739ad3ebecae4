import FluentKit
import Foundation
import MTDCore
import MTDStore

/// Creating, changing and deleting rules, each with an AUDIT event (`AUTOMATION`) in the same
/// transaction. The caller checks the admin's permission; these functions check the document.
extension Automations {
    public func list(enterpriseID: UUID, on database: any Database) async throws -> [AutomationRuleModel] {
        try await AutomationRuleModel.query(on: database).filter(\.$enterpriseID == enterpriseID).sort(\.$createdAt, .ascending).all()
    }

    public func rule(_ id: UUID, enterpriseID: UUID, on database: any Database) async throws(AutomationError) -> AutomationRuleModel {
        let found: AutomationRuleModel?
        do {
            found = try await AutomationRuleModel.query(on: database).filter(\.$id == id).filter(\.$enterpriseID == enterpriseID).first()
        } catch {
            throw .notFound
        }
        guard let found else { throw .notFound }
        return found
    }

    public func create(_ rule: AutomationRule, enterpriseID: UUID, actor: EventParty, on database: any Database, now: Date) async throws -> AutomationRuleModel {
        try await checkEgress(rule)
        let model = AutomationRuleModel()
        model.id = UUID()
        model.enterpriseID = enterpriseID
        model.owner = actor.guid ?? actor.type
        model.createdAt = now
        model.version = 0
        try apply(rule, to: model, now: now)
        try await writes.run {
            try await database.transaction { tx in
                try await model.create(on: tx)
                try await EventLog.append([Self.audit(model, change: .created, actor: actor, enabled: rule.enabled)], enterpriseID: enterpriseID, on: tx, now: now)
            }
        }
        return model
    }

    public func update(_ id: UUID, with rule: AutomationRule, enterpriseID: UUID, actor: EventParty, on database: any Database, now: Date) async throws -> AutomationRuleModel {
        try await checkEgress(rule)
        let model = try await self.rule(id, enterpriseID: enterpriseID, on: database)
        try apply(rule, to: model, now: now)
        try await writes.run {
            try await database.transaction { tx in
                try await model.update(on: tx)
                try await EventLog.append([Self.audit(model, change: .updated, actor: actor, enabled: rule.enabled)], enterpriseID: enterpriseID, on: tx, now: now)
            }
        }
        return model
    }

    public func delete(_ id: UUID, enterpriseID: UUID, actor: EventParty, on database: any Database, now: Date) async throws {
        let model = try await rule(id, enterpriseID: enterpriseID, on: database)
        try await writes.run {
            try await database.transaction { tx in
                // The executions and triggers go with the rule (their foreign keys cascade); both
                // drivers are told explicitly, since SQLite enforces cascades only when asked to.
                try await AutomationExecutionModel.query(on: tx).filter(\.$ruleID == id).delete()
                try await AutomationTriggerModel.query(on: tx).filter(\.$ruleID == id).delete()
                try await model.delete(on: tx)
                try await EventLog.append([Self.audit(model, change: .deleted, actor: actor, enabled: false)], enterpriseID: enterpriseID, on: tx, now: now)
            }
        }
    }

    /// The rule document of a stored rule.
    public static func document(_ model: AutomationRuleModel) throws(AutomationError) -> AutomationRule {
        do {
            return try JSONDecoder().decode(AutomationRule.self, from: Data(model.document.utf8))
        } catch {
            throw .invalid(DocumentError(decoding: error))
        }
    }

    private func apply(_ rule: AutomationRule, to model: AutomationRuleModel, now: Date) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        model.name = rule.name
        model.enabled = rule.enabled
        model.document = String(decoding: try encoder.encode(rule), as: UTF8.self)
        model.updatedAt = now
        model.version += 1
    }

    /// Every webhook URL must pass the egress policy when it is saved (and again when it is called).
    private func checkEgress(_ rule: AutomationRule) async throws(AutomationError) {
        for (index, action) in rule.actions.enumerated() {
            guard case .webhook(let webhook) = action else { continue }
            do {
                try await egress.check(webhook.url)
            } catch {
                throw .egressRefused(field: "$.actions[\(index)].url", reason: error.reason)
            }
        }
    }

    static func audit(_ model: AutomationRuleModel, change: ChangeType, actor: EventParty, enabled: Bool) -> EventLog.NewEvent {
        EventLog.NewEvent(
            type: .audit, change: change, actor: actor, target: EventParty(type: "AUTOMATION", guid: model.id?.uuidString.lowercased()),
            payload: AuditPayload(type: "AUTOMATION", changes: [
                .init(name: "name", to: model.name), .init(name: "enabled", to: enabled ? "true" : "false"), .init(name: "version", to: String(model.version)),
            ]))
    }
}

extension Automations {
    /// Executions, newest first: of one rule, of one device, or in one state (the dead-letter list).
    public func executions(enterpriseID: UUID, ruleID: UUID? = nil, deviceID: UUID? = nil, status: ExecutionStatus? = nil, limit: Int,
                           on database: any Database) async throws -> [AutomationExecutionModel] {
        var select = AutomationExecutionModel.query(on: database).filter(\.$enterpriseID == enterpriseID)
        if let ruleID { select = select.filter(\.$ruleID == ruleID) }
        if let deviceID { select = select.filter(\.$deviceID == deviceID) }
        if let status { select = select.filter(\.$status == status) }
        return try await select.sort(\.$createdAt, .descending).sort(\.$actionIndex, .ascending).limit(max(1, min(limit, 1_000))).all()
    }
}
