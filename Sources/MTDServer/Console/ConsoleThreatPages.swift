import FluentKit
import Foundation
import MTDCore
import MTDStore
import Vapor

/// `/console/threats` and the ignore, un-ignore and resolve actions (each with a reason, audited).
enum ConsoleThreatPages {
    static func list(_ req: Request) async throws -> Response {
        let context = try req.console
        let (query, filters) = try ThreatController.filteredQuery(req, enterpriseID: context.principal.enterpriseID)
        let window = try PageWindow(page: filters.page, size: filters.pageSize, sizeParameter: "pageSize", defaultSize: 50, maximumSize: 200)
        let (page, pageSize) = (window.page, window.size)
        let total = try await query.copy().count()
        let threats = try await query.sort(\.$detectedAt, .descending).range(window.range).all()
        let canAct = context.principal.role.canActOnThreats
        let back = req.url.path + (req.url.query.map { "?" + $0 } ?? "")
        let rows: [HTML] = threats.map { threat in
            let summary = ThreatSummary(threat)
            return """
            <tr><td>\(threat.classification.replacingOccurrences(of: "_", with: " ").lowercased())</td><td>\(threat.subject)</td><td>\(ConsolePage.badge(threat.severity))</td>\
            <td>\(ConsolePage.badge(threat.status))</td><td><a href="/console/devices/\(threat.$device.id.uuidString.lowercased())">device</a></td>\
            <td>\(ConsolePage.date(threat.detectedAt))</td>\(canAct ? HTML("<td>\(actions(summary, csrf: context.csrf, back: back))</td>") : "")</tr>
            """
        }
        let table: HTML = threats.isEmpty ? "<p class=\"notice\">No threat matches these filters.</p>" : """
        <div class="table-wrap"><table><thead><tr><th scope="col">Classification</th><th scope="col">Subject</th><th scope="col">Severity</th><th scope="col">Status</th>\
        <th scope="col">Device</th><th scope="col">Detected</th>\(canAct ? HTML("<th scope=\"col\">Action</th>") : "")</tr></thead><tbody>\(rows)</tbody></table></div>\
        \(ConsolePage.pager(req, page: page, pageSize: pageSize, total: total))
        """
        return ConsolePage.render(req, title: "Threats", section: .threats, content: """
        \(notice(req))<form class="filters" method="get" action="/console/threats" role="search">
        \(ConsolePage.select("status", label: "Status", options: ThreatStatus.allCases.map(\.rawValue), selected: filters.status?.rawValue))
        \(ConsolePage.select("severity", label: "Severity", options: ["LOW", "MEDIUM", "HIGH"], selected: filters.severity?.rawValue))
        \(ConsolePage.select("classification", label: "Classification", options: ThreatClassification.allCases.map(\.rawValue), selected: filters.classification?.rawValue))
        \(ConsolePage.select("type", label: "Type", options: ThreatType.allCases.map(\.rawValue), selected: filters.type?.rawValue))
        \(ConsolePage.select("platform", label: "Platform", options: Platform.allCases.map(\.rawValue), selected: filters.platform?.rawValue))
        <button type="submit">Filter</button></form>\(table)
        """)
    }

    /// The forms for what can be done with a threat in its state; each asks for a reason.
    static func actions(_ threat: ThreatSummary, csrf: String, back: String) -> HTML {
        let choices: [(String, String)] = switch threat.status {
        case "OPEN": [("ignore", "Ignore"), ("resolve", "Resolve")]
        case "IGNORED": [("unignore", "Un-ignore"), ("resolve", "Resolve")]
        default: []
        }
        return choices.map { action, label -> HTML in
            """
            <form method="post" action="/console/threats/\(threat.id)/\(action)" class="inline action">\(ConsolePage.csrfField(csrf))\
            <input type="hidden" name="back" value="\(back)"><label>Reason to \(label.lowercased()) <input type="text" name="reason" required minlength="3"></label> \
            <button type="submit" class="secondary">\(label)</button></form>
            """
        }.joined()
    }

    static func act(_ req: Request) async throws -> Response {
        let context = try req.console
        struct Form: Content {
            var reason: String?
            var back: String?
        }
        let form = try req.content.decode(Form.self)
        let back = ConsoleController.safeNext(form.back)
        guard let id = req.parameters.get("id", as: UUID.self), let action = req.parameters.get("action") else { throw Abort(.notFound) }
        guard let threatAction = ThreatActions.Action(rawValue: action) else { throw Abort(.notFound) }
        do {
            _ = try await req.application.mtd.threatActions.perform(threatAction, threatID: id, reason: form.reason ?? "", principal: context.principal, on: req.db)
        } catch let error as APIError {
            return ConsolePage.error(req, status: error.status, title: "Not done", message: error.message.prefix(1).uppercased() + error.message.dropFirst() + ".")
        }
        return req.redirect(to: back + (back.contains("?") ? "&" : "?") + "done=\(action)", redirectType: .normal)
    }

    static func notice(_ req: Request) -> HTML {
        guard let done = req.query[String.self, at: "done"] else { return "" }
        let text = ["ignore": "Threat ignored.", "unignore": "Threat open again.", "resolve": "Threat resolved."][done] ?? "Done."
        return "<p class=\"notice ok\" role=\"status\">\(text)</p>"
    }
}

enum ConsoleAuditPage {
    static func show(_ req: Request) async throws -> Response {
        let context = try req.console
        let window = try PageWindow(pageText: req.query[String.self, at: "page"], sizeText: nil, sizeParameter: "pageSize", defaultSize: 50, maximumSize: 50)
        let (page, pageSize) = (window.page, window.size)
        let query = EventModel.query(on: req.db).filter(\.$enterpriseID == context.principal.enterpriseID).filter(\.$type == EventType.audit.rawValue)
        let total = try await query.copy().count()
        let events = try await query.sort(\.$id, .descending).range(window.range).all().map(EventSummary.init)
        let rows: [HTML] = events.map { event in
            let changes: String = {
                guard case .array(let items)? = event.audit?["attribute_changes"] else { return ConsoleDevicePages.text(event.audit ?? .null) }
                return items.map { item in "\(item["name"]?.stringValue ?? ""): \(item["from"]?.stringValue.map { "\($0) → " } ?? "")\(item["to"]?.stringValue ?? "")" }
                    .joined(separator: "; ")
            }()
            return "<tr><td>\(ConsolePage.date(event.created_time))</td><td>\(event.actor.guid ?? event.actor.type)</td><td>\(event.audit?["type"]?.stringValue ?? event.target.type)</td><td>\(changes)</td></tr>"
        }
        let table: HTML = events.isEmpty ? "<p class=\"muted\">Nothing has been audited yet.</p>" : """
        <div class="table-wrap"><table><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Changes</th></tr></thead><tbody>\(rows)</tbody></table></div>\
        \(ConsolePage.pager(req, page: page, pageSize: pageSize, total: total))
        """
        return ConsolePage.render(req, title: "Audit log", section: .audit, content: table)
    }
}
