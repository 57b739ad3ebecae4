import FluentKit
import Foundation
import MTDAutomations
import MTDCore
import MTDServices
import MTDStore
import Vapor

/// `/api/v1/automations`: rules, their dry runs and executions. Owners and analysts manage rules;
/// read-only admins see them. Webhook secrets are never shown again after they are saved.
enum AutomationController {
    static func list(_ req: Request) async throws -> AutomationList {
        let principal = try req.admin
        let models = try await req.application.mtd.automations.list(enterpriseID: principal.enterpriseID, on: req.db)
        return AutomationList(automations: try models.map(AutomationSummary.init))
    }

    /// Ready-made rules to start from (`RuleTemplates`): documents the admin edits and saves.
    static func templates(_ req: Request) async throws -> Response {
        _ = try req.admin
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var items: [[String: Any]] = []
        for template in RuleTemplates.all {
            let rule = try JSONSerialization.jsonObject(with: try encoder.encode(template.rule))
            items.append(["id": template.id, "title": template.title, "description": template.description, "rule": rule])
        }
        let body = try JSONSerialization.data(withJSONObject: ["templates": items], options: [.sortedKeys])
        return Response(status: .ok, headers: ["Content-Type": "application/json; charset=utf-8"], body: .init(data: body))
    }

    static func get(_ req: Request) async throws -> AutomationSummary {
        let principal = try req.admin
        return try AutomationSummary(try await translated { try await req.application.mtd.automations.rule(try ruleID(req), enterpriseID: principal.enterpriseID, on: req.db) })
    }

    static func create(_ req: Request) async throws -> Response {
        let principal = try req.admin
        try principal.require(\.canManageAutomations, "create automations")
        let rule = try document(req)
        try requireOwnerForWipes(rule, principal)
        let model = try await translated {
            try await req.application.mtd.automations.create(rule, enterpriseID: principal.enterpriseID, actor: principal.actor, on: req.db, now: Date())
        }
        return try await AutomationSummary(model).encodeResponse(status: .created, for: req)
    }

    static func update(_ req: Request) async throws -> AutomationSummary {
        let principal = try req.admin
        try principal.require(\.canManageAutomations, "change automations")
        let id = try ruleID(req)
        // A rule read from GET shows its secrets as "(hidden)"; sent back unchanged they stay.
        let stored = try await translated { try await req.application.mtd.automations.rule(id, enterpriseID: principal.enterpriseID, on: req.db) }
        let rule = try document(req, stored: try Automations.document(stored))
        try requireOwnerForWipes(rule, principal)
        return try AutomationSummary(try await translated {
            try await req.application.mtd.automations.update(id, with: rule, enterpriseID: principal.enterpriseID, actor: principal.actor, on: req.db, now: Date())
        })
    }

    static func delete(_ req: Request) async throws -> HTTPStatus {
        let principal = try req.admin
        try principal.require(\.canManageAutomations, "delete automations")
        let id = try ruleID(req)
        try await translated {
            try await req.application.mtd.automations.delete(id, enterpriseID: principal.enterpriseID, actor: principal.actor, on: req.db, now: Date())
        }
        return .noContent
    }

    struct DryRunQuery: Content {
        var days: Int?
    }

    /// Replays the last `days` (1–30, default 7) of the log through the stored rule, acting on nothing.
    static func dryRun(_ req: Request) async throws -> DryRunResult {
        let principal = try req.admin
        let automations = req.application.mtd.automations
        let model = try await translated { try await automations.rule(try ruleID(req), enterpriseID: principal.enterpriseID, on: req.db) }
        let days = try BoundedNumber.check(try req.query.decode(DryRunQuery.self).days, parameter: "days", in: 1...30, default: 7)
        let rule = try await translated { try Automations.document(model) }
        return try await automations.dryRun(rule, enterpriseID: principal.enterpriseID, days: days, on: req.db, now: Date())
    }

    struct ExecutionQuery: Content {
        var limit: Int?
        var status: String?
        var deviceId: String?
    }

    /// One rule's executions, newest first.
    static func executions(_ req: Request) async throws -> ExecutionList {
        let principal = try req.admin
        let model = try await translated {
            try await req.application.mtd.automations.rule(try ruleID(req), enterpriseID: principal.enterpriseID, on: req.db)
        }
        return try await executionList(req, enterpriseID: principal.enterpriseID, ruleID: try model.requireID())
    }

    /// Executions of every rule: per device (`deviceId`), or the dead-letter list (`status=DEAD`).
    static func allExecutions(_ req: Request) async throws -> ExecutionList {
        try await executionList(req, enterpriseID: try req.admin.enterpriseID, ruleID: nil)
    }

    private static func executionList(_ req: Request, enterpriseID: UUID, ruleID: UUID?) async throws -> ExecutionList {
        let query = try req.query.decode(ExecutionQuery.self)
        let limit = try BoundedNumber.check(query.limit, parameter: "limit", in: 1...1000, default: 100)
        var status: ExecutionStatus?
        if let text = query.status, !text.isEmpty {
            guard let known = ExecutionStatus(rawValue: text.uppercased()) else {
                throw APIError.badRequest("unknown status \"\(text)\"; use one of \(ExecutionStatus.allCases.map(\.rawValue).joined(separator: ", "))", field: "status")
            }
            status = known
        }
        var deviceID: UUID?
        if let text = query.deviceId, !text.isEmpty {
            guard let device = UUID(uuidString: text) else { throw APIError.badRequest("not a device id", field: "deviceId") }
            deviceID = device
        }
        let rows = try await req.application.mtd.automations.executions(
            enterpriseID: enterpriseID, ruleID: ruleID, deviceID: deviceID, status: status, limit: limit, on: req.db)
        return ExecutionList(executions: try rows.map(ExecutionSummary.init))
    }

    /// A rule that can wipe devices is an owner's decision.
    private static func requireOwnerForWipes(_ rule: AutomationRule, _ principal: AdminPrincipal) throws {
        guard rule.actions.contains(where: \.isDestructive) else { return }
        try principal.require(\.canManageEnterprise, "save a rule that wipes devices")
    }

    private static func ruleID(_ req: Request) throws -> UUID {
        guard let id = req.parameters.get("id", as: UUID.self) else { throw APIError.notFound("automation") }
        return id
    }

    private static func document(_ req: Request, stored: AutomationRule? = nil) throws -> AutomationRule {
        guard let body = req.body.data, body.readableBytes > 0 else {
            throw APIError.badRequest("send the rule as a JSON object: name, enabled, trigger, conditions, actions", field: "$")
        }
        do {
            let data = Data(body.readableBytesView)
            if let stored { return try AutomationRule.decode(data, keepingSecretsShownAs: AutomationSummary.hiddenSecret, from: stored) }
            return try AutomationRule.decode(data)
        } catch {
            throw APIError.invalidDocument(error)
        }
    }

    private static func translated<T>(_ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch let error as AutomationError {
            switch error {
            case .notFound: throw APIError.notFound("automation")
            case .invalid(let problem): throw APIError.invalidDocument(problem)
            case .egressRefused(let field, let reason):
                throw APIError.unprocessable("egress_refused", "the egress policy refuses this address: \(reason)", field: field)
            }
        }
    }
}
