import FluentKit
import Foundation
import MTDAutomations
import MTDCore
import Vapor

/// `/console/automations`: the rules with their last runs, a new rule from a template (the JSON
/// document in an editor, errors shown with the field they name), and per rule its document, a dry
/// run, enable/disable, delete and the execution history. The same domain functions as the admin
/// API (`/api/v1/automations`); owners and analysts change rules, owners alone save a wipe.
enum ConsoleAutomationsPage {
    static func show(_ req: Request) async throws -> Response {
        let template = req.query[String.self, at: "template"].flatMap { id in RuleTemplates.all.first { $0.id == id } }
        return try await render(req, draft: template.map { pretty($0.rule) }, notice: nil)
    }

    static func render(_ req: Request, draft: String?, notice: HTML?, status: HTTPResponseStatus = .ok) async throws -> Response {
        let context = try req.console
        let automations = req.application.mtd.automations
        let enterpriseID = context.principal.enterpriseID
        let rules = try await automations.list(enterpriseID: enterpriseID, on: req.db)
        let recent = try await automations.executions(enterpriseID: enterpriseID, limit: 1_000, on: req.db)
        var lastRun: [UUID: AutomationExecutionModel] = [:]
        for execution in recent where lastRun[execution.ruleID] == nil { lastRun[execution.ruleID] = execution }
        let rows: [HTML] = rules.map { model in
            let id = model.id?.uuidString.lowercased() ?? ""
            let rule = try? Automations.document(model)
            let last: HTML = lastRun[model.id ?? UUID()].map { "\(ConsolePage.badge($0.status.rawValue)) \(ConsolePage.date($0.completedAt ?? $0.dueAt))" } ?? "never"
            return """
            <tr><td><a href="/console/automations/\(id)">\(model.name)</a></td><td>\(ConsolePage.badge(model.enabled ? "ENABLED" : "DISABLED"))</td>\
            <td>\(rule.map(triggerSummary) ?? "")</td><td>\(rule.map { $0.actions.map(actionSummary).joined(separator: ", ") } ?? "")</td>\
            <td>\(model.owner)</td><td>\(last)</td></tr>
            """
        }
        let table: HTML = rules.isEmpty ? "<p class=\"muted\">No rules yet: start from a template below.</p>" : """
        <div class="table-wrap"><table id="automations"><thead><tr><th scope="col">Name</th><th scope="col">State</th><th scope="col">Trigger</th>\
        <th scope="col">Actions</th><th scope="col">Owner</th><th scope="col">Last run</th></tr></thead><tbody>\(rows)</tbody></table></div>
        """
        let templates: [HTML] = RuleTemplates.all.map { template in
            "<li><a href=\"/console/automations?template=\(template.id)#new-rule\">\(template.title)</a>: \(template.description)</li>"
        }
        let editor: HTML = context.principal.role.canManageAutomations ? """
        <h2 id="new-rule">New rule</h2><p>From a template:</p><ul class="templates">\(templates)</ul>
        <form method="post" action="/console/automations">\(ConsolePage.csrfField(context.csrf))
        <p><label for="document">Rule (JSON; see docs/automations.md)</label></p>
        <textarea id="document" name="document" rows="18" cols="100" spellcheck="false" required>\(draft ?? pretty(blankRule))</textarea>
        <p><button type="submit">Save rule</button></p></form>
        """ : "<p class=\"muted\">Read-only admins see rules; owners and analysts create them.</p>"
        return ConsolePage.render(req, title: "Automations", section: .automations, content: """
        \(notice ?? "")<p>Rules act on threats and device changes: webhooks, e-mail, UEM commands. The dead-letter list is \
        <a href="/console/automations/dead">the executions that failed for good</a>; e-mail goes through \
        <a href="/console/automations/mail-relay">the e-mail relay</a>.</p>\(table)\(editor)
        """, status: status)
    }

    static func create(_ req: Request) async throws -> Response {
        let context = try req.console
        guard context.principal.role.canManageAutomations else {
            return ConsolePage.error(req, status: .forbidden, title: "Not allowed", message: "Read-only admins cannot create rules.")
        }
        let text = (try? req.content.decode([String: String].self))?["document"] ?? ""
        let rule: AutomationRule
        do {
            rule = try AutomationRule.decode(Data(text.utf8))
        } catch {
            return try await render(req, draft: text, notice: problem(error.path, error.message), status: .unprocessableEntity)
        }
        if rule.actions.contains(where: \.isDestructive), !context.principal.role.canManageEnterprise {
            return try await render(req, draft: text, notice: problem("$.actions", "only an owner may save a rule that wipes devices"), status: .forbidden)
        }
        do {
            let model = try await req.application.mtd.automations.create(rule, enterpriseID: context.principal.enterpriseID, actor: context.principal.actor,
                                                                        on: req.db, now: Date())
            return req.redirect(to: "/console/automations/\(model.id?.uuidString.lowercased() ?? "")?saved=1")
        } catch let error as AutomationError {
            return try await render(req, draft: text, notice: problem(error), status: .unprocessableEntity)
        }
    }

    static func detail(_ req: Request) async throws -> Response {
        try await renderDetail(req, dryRun: nil)
    }

    static func renderDetail(_ req: Request, dryRun: DryRunResult?, notice: HTML? = nil, draft: String? = nil,
                             status: HTTPResponseStatus = .ok) async throws -> Response {
        let context = try req.console
        let automations = req.application.mtd.automations
        guard let (id, model) = try await storedRule(req, context) else { return missing(req) }
        let rule = try Automations.document(model)
        let executions = try await automations.executions(enterpriseID: context.principal.enterpriseID, ruleID: id, limit: 100, on: req.db)
        let base = "/console/automations/\(id.uuidString.lowercased())"
        let canManage = context.principal.role.canManageAutomations && (!rule.actions.contains(where: \.isDestructive) || context.principal.role.canManageEnterprise)
        let controls: HTML = canManage ? """
        <form method="post" action="\(base)/toggle" class="inline">\(ConsolePage.csrfField(context.csrf))<button type="submit" class="secondary">\(model.enabled ? "Disable" : "Enable")</button></form>
        <form method="post" action="\(base)/delete" class="inline">\(ConsolePage.csrfField(context.csrf))<button type="submit" class="secondary">Delete</button></form>
        """ : ""
        let saved: HTML = req.query[String.self, at: "saved"] == "1" ? "<p class=\"notice ok\" role=\"status\">Rule saved. It acts on events from now on.</p>" : ""
        let dryRunForm: HTML = context.principal.role.canManageAutomations ? """
        <form method="post" action="\(base)/dry-run">\(ConsolePage.csrfField(context.csrf))<label>Replay the last <input name="days" type="number" min="1" max="30" value="7"> days</label> \
        <button type="submit">Dry run</button></form>
        """ : ""
        let preview: HTML = dryRun.map { result in
            let devices: [HTML] = result.devices.prefix(20).map { "<li><a href=\"/console/devices/\($0.deviceId)\">\($0.deviceId)</a>: \($0.runs) run\($0.runs == 1 ? "" : "s")</li>" }
            let examples: [HTML] = result.examples.prefix(20).map {
                "<tr><td>\(ConsolePage.date($0.at))</td><td>\($0.eventId)</td><td>\($0.deviceId)</td><td>\($0.runs ? "runs" : "held back")</td><td>\($0.reason)</td></tr>"
            }
            return """
            <section class="card" id="dry-run"><h2>Dry run: last \(result.days) days</h2><p>\(result.eventsRead) events read, \(result.triggered) matched the trigger, \
            the actions would have run <strong>\(result.wouldRun)</strong> times\(result.truncated ? " (the replay stopped at its limit)" : "").</p>
            <ul>\(devices)</ul><div class="table-wrap"><table><thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Device</th>\
            <th scope="col">Decision</th><th scope="col">Why</th></tr></thead><tbody>\(examples)</tbody></table></div></section>
            """
        } ?? ""
        return ConsolePage.render(req, title: model.name, section: .automations, content: """
        \(saved)\(notice ?? "")<p>\(ConsolePage.badge(model.enabled ? "ENABLED" : "DISABLED")) version \(model.version), owner \(model.owner), \
        changed \(ConsolePage.date(model.updatedAt)). \(controls)</p>
        <p>When: \(triggerSummary(rule)). Then: \(rule.actions.map(actionSummary).joined(separator: ", ")).</p>
        \(canManage ? editForm(base: base, text: draft ?? pretty(shown(rule)), csrf: context.csrf, open: draft != nil) : "<details><summary>Rule document</summary><pre>\(pretty(shown(rule)))</pre></details>")
        \(dryRunForm)\(preview)<h2>Executions</h2>\(table(executions))
        """, status: status)
    }

    /// The stored document to edit; webhook secrets show as "(hidden)" and stay unless replaced.
    private static func editForm(base: String, text: String, csrf: String, open: Bool) -> HTML {
        """
        <details id="edit-rule"\(open ? " open" : "")><summary>Edit the rule</summary>
        <form method="post" action="\(base)/edit">\(ConsolePage.csrfField(csrf))
        <p><label for="document">Rule (JSON; a webhook secret left as \(AutomationSummary.hiddenSecret) keeps the stored one)</label></p>
        <textarea id="document" name="document" rows="18" cols="100" spellcheck="false" required>\(text)</textarea>
        <p><button type="submit">Save changes</button></p></form></details>
        """
    }

    static func edit(_ req: Request) async throws -> Response {
        try await change(req) { automations, model, stored, context in
            let text = (try? req.content.decode([String: String].self))?["document"] ?? ""
            let rule: AutomationRule
            do {
                rule = try AutomationRule.decode(Data(text.utf8), keepingSecretsShownAs: AutomationSummary.hiddenSecret, from: stored)
            } catch let error as DocumentError {
                return try await renderDetail(req, dryRun: nil, notice: problem(error.path, error.message), draft: text, status: .unprocessableEntity)
            }
            if rule.actions.contains(where: \.isDestructive), !context.principal.role.canManageEnterprise {
                return try await renderDetail(req, dryRun: nil, notice: problem("$.actions", "only an owner may save a rule that wipes devices"), draft: text,
                                              status: .forbidden)
            }
            let id = try model.requireID()
            do {
                _ = try await automations.update(id, with: rule, enterpriseID: context.principal.enterpriseID, actor: context.principal.actor, on: req.db, now: Date())
            } catch let error as AutomationError {
                return try await renderDetail(req, dryRun: nil, notice: problem(error), draft: text, status: .unprocessableEntity)
            }
            return req.redirect(to: "/console/automations/\(id.uuidString.lowercased())?saved=1")
        }
    }

    static func toggle(_ req: Request) async throws -> Response {
        try await change(req) { automations, model, rule, context in
            var changed = rule
            changed.enabled.toggle()
            _ = try await automations.update(try model.requireID(), with: changed, enterpriseID: context.principal.enterpriseID, actor: context.principal.actor,
                                             on: req.db, now: Date())
            return req.redirect(to: "/console/automations/\(try model.requireID().uuidString.lowercased())")
        }
    }

    static func delete(_ req: Request) async throws -> Response {
        try await change(req) { automations, model, _, context in
            try await automations.delete(try model.requireID(), enterpriseID: context.principal.enterpriseID, actor: context.principal.actor, on: req.db, now: Date())
            return try await render(req, draft: nil, notice: "<p class=\"notice ok\" role=\"status\">Rule \(model.name) deleted.</p>")
        }
    }

    static func dryRun(_ req: Request) async throws -> Response {
        let context = try req.console
        let days = Int((try? req.content.decode([String: String].self))?["days"] ?? "7") ?? 0
        guard (1...30).contains(days) else {
            return try await renderDetail(req, dryRun: nil, notice: problem("days", "replay 1 to 30 days"))
        }
        let automations = req.application.mtd.automations
        guard let (_, model) = try await storedRule(req, context) else { return missing(req) }
        let result = try await automations.dryRun(try Automations.document(model), enterpriseID: context.principal.enterpriseID, days: days, on: req.db, now: Date())
        return try await renderDetail(req, dryRun: result)
    }

    /// The dead-letter list: every execution that failed for good.
    static func dead(_ req: Request) async throws -> Response {
        let context = try req.console
        let rows = try await req.application.mtd.automations.executions(enterpriseID: context.principal.enterpriseID, status: .dead, limit: 500, on: req.db)
        return ConsolePage.render(req, title: "Failed automation actions", section: .automations, content: """
        <p>Actions that failed every attempt. Fix the cause (a receiver's URL, the SMTP relay, the UEM account) and the next event runs again.</p>\(table(rows))
        """)
    }

    /// The executions for one device, for its page.
    static func deviceSection(_ req: Request, deviceID: UUID, enterpriseID: UUID) async throws -> HTML {
        let automations = req.application.mtd.automations
        let rows = try await automations.executions(enterpriseID: enterpriseID, deviceID: deviceID, limit: 50, on: req.db)
        guard !rows.isEmpty else { return "<p class=\"muted\">No automation has acted on this device.</p>" }
        let names = Dictionary(try await automations.list(enterpriseID: enterpriseID, on: req.db).compactMap { model in model.id.map { ($0, model.name) } },
                               uniquingKeysWith: { first, _ in first })
        return table(rows, names: names)
    }

    private static func change(_ req: Request, _ body: (Automations, AutomationRuleModel, AutomationRule, ConsoleContext) async throws -> Response) async throws -> Response {
        let context = try req.console
        let automations = req.application.mtd.automations
        guard let (_, model) = try await storedRule(req, context) else { return missing(req) }
        let rule = try Automations.document(model)
        guard context.principal.role.canManageAutomations, !rule.actions.contains(where: \.isDestructive) || context.principal.role.canManageEnterprise else {
            return ConsolePage.error(req, status: .forbidden, title: "Not allowed", message: "Your role cannot change this rule.")
        }
        return try await body(automations, model, rule, context)
    }

    /// The rule the address names, in the admin's enterprise.
    private static func storedRule(_ req: Request, _ context: ConsoleContext) async throws -> (UUID, AutomationRuleModel)? {
        guard let id = req.parameters.get("id", as: UUID.self) else { return nil }
        do {
            return (id, try await req.application.mtd.automations.rule(id, enterpriseID: context.principal.enterpriseID, on: req.db))
        } catch {
            return nil
        }
    }

    private static func missing(_ req: Request) -> Response {
        ConsolePage.error(req, status: .notFound, title: "No such rule", message: "This automation rule does not exist in your enterprise.")
    }

    private static func table(_ rows: [AutomationExecutionModel], names: [UUID: String] = [:]) -> HTML {
        guard !rows.isEmpty else { return "<p class=\"muted\">Nothing has run yet.</p>" }
        let lines: [HTML] = rows.map { execution in
            let device: HTML = execution.deviceID.map { "<a href=\"/console/devices/\($0.uuidString.lowercased())\">\($0.uuidString.lowercased().prefix(8).description)</a>" } ?? "digest"
            let rule: HTML = names[execution.ruleID].map { "<a href=\"/console/automations/\(execution.ruleID.uuidString.lowercased())\">\($0)</a>" } ?? ""
            return """
            <tr>\(names.isEmpty ? "" : HTML("<td>\(rule)</td>"))<td>\(ConsolePage.date(execution.createdAt))</td><td>\(device)</td><td>\(execution.actionIndex + 1). \(execution.actionType)</td>\
            <td>\(ConsolePage.badge(execution.status.rawValue))</td><td>\(execution.attempts)</td><td>\(execution.lastError ?? "")</td></tr>
            """
        }
        return """
        <div class="table-wrap"><table class="executions"><thead><tr>\(names.isEmpty ? "" : HTML("<th scope=\"col\">Rule</th>"))<th scope="col">Created</th>\
        <th scope="col">Device</th><th scope="col">Action</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last error</th></tr></thead>\
        <tbody>\(lines)</tbody></table></div>
        """
    }

    private static func problem(_ field: String, _ message: String) -> HTML {
        "<p class=\"notice error\" role=\"alert\" id=\"rule-error\"><code>\(field)</code>: \(message)</p>"
    }

    private static func problem(_ error: AutomationError) -> HTML {
        switch error {
        case .notFound: problem("$", "the rule no longer exists")
        case .invalid(let document): problem(document.path, document.message)
        case .egressRefused(let field, let reason): problem(field, "the egress policy refuses this address: \(reason)")
        }
    }

    static let blankRule = AutomationRule(
        name: "My rule", enabled: true, trigger: .init(type: .threat, change: .created, minimumSeverity: .high),
        actions: [.email(.init(to: .admins))])

    private static func shown(_ rule: AutomationRule) -> AutomationRule {
        var copy = rule
        copy.actions = rule.actions.map { action in
            guard case .webhook(var webhook) = action else { return action }
            webhook.secret = AutomationSummary.hiddenSecret
            return .webhook(webhook)
        }
        return copy
    }

    static func pretty(_ rule: AutomationRule) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(rule)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func triggerSummary(_ rule: AutomationRule) -> String {
        var parts = ["\(rule.trigger.type.rawValue) \(rule.trigger.change?.rawValue ?? "any change")"]
        if let classifications = rule.trigger.classifications { parts.append(classifications.map(\.rawValue).joined(separator: "/")) }
        if let severity = rule.trigger.minimumSeverity { parts.append("\(severity.rawValue) or above") }
        if let connection = rule.trigger.connectionTo { parts.append("to \(connection.rawValue)") }
        if let security = rule.trigger.securityStatusTo { parts.append("to \(security.rawValue)") }
        if let delay = rule.conditions?.stillOpenAfterSeconds ?? rule.conditions?.stillInStateAfterSeconds { parts.append("still so after \(delay) s") }
        if let digest = rule.digest { parts.append("daily digest at \(digest.at) UTC") }
        return parts.joined(separator: ", ")
    }

    static func actionSummary(_ action: AutomationRule.Action) -> String {
        switch action {
        case .webhook(let webhook): "\(webhook.format.rawValue) webhook"
        case .email(let email): "e-mail to \(email.to.rawValue)"
        case .uem(let command): "UEM \(command.command.rawValue)"
        }
    }
}
