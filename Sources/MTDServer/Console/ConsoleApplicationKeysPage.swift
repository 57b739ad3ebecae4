import FluentKit
import Foundation
import MobileRiskAPI
import MTDStore
import Vapor

/// `/console/application-keys` (System > Application Keys): the keys SIEM and SOAR connectors use
/// with the Mobile Risk API. Owners create one (shown once, with what to paste where) and revoke
/// them; every admin sees the list with creation, last use and expiry.
enum ConsoleApplicationKeysPage {
    static let scopeLabels: [(MRAScope, String)] = [
        (.events, "Events (stream and polling)"), (.devices, "Devices"), (.threats, "Threats"), (.osVulns, "OS vulnerabilities"),
    ]

    static func show(_ req: Request) async throws -> Response {
        try await render(req, notice: nil)
    }

    static func render(_ req: Request, notice: HTML?, status: HTTPResponseStatus = .ok) async throws -> Response {
        let context = try req.console
        let now = Date()
        let keys = try await req.application.mtd.mobileRisk.keys.list(enterpriseID: context.principal.enterpriseID, on: req.db)
        let canManage = context.principal.role.canManageEnterprise
        let rows: [HTML] = keys.map { key in
            let state = key.revokedAt != nil ? "REVOKED" : (key.expiresAt <= now ? "EXPIRED" : "ACTIVE")
            let soon = key.revokedAt == nil && key.expiresAt > now && key.expiresAt.timeIntervalSince(now) <= 30 * 86_400
            let revoke: HTML = canManage && key.revokedAt == nil ? """
            <form method="post" action="/console/application-keys/\(key.id?.uuidString.lowercased() ?? "")/revoke" class="inline">\
            \(ConsolePage.csrfField(context.csrf))<button type="submit" class="secondary">Revoke</button></form>
            """ : ""
            return """
            <tr><td>\(key.name)</td><td>\(key.scopes.replacingOccurrences(of: " ", with: ", "))</td><td>\(ConsolePage.badge(state))</td>\
            <td>\(ConsolePage.date(key.createdAt)) by \(key.createdBy)</td><td>\(key.lastUsedAt.map { ConsolePage.date($0) } ?? "never")</td>\
            <td>\(ConsolePage.date(key.expiresAt))\(soon ? HTML(" <strong>(soon)</strong>") : "")</td><td>\(revoke)</td></tr>
            """
        }
        let table: HTML = keys.isEmpty ? "<p class=\"muted\">No application keys yet.</p>" : """
        <div class="table-wrap"><table id="application-keys"><thead><tr><th scope="col">Name</th><th scope="col">Scopes</th><th scope="col">State</th>\
        <th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col">Actions</th>\
        </tr></thead><tbody>\(rows)</tbody></table></div>
        """
        let checkboxes: [HTML] = scopeLabels.map { scope, label in
            "<label><span><input type=\"checkbox\" name=\"scope_\(scope.rawValue)\" value=\"1\"\(scope == .osVulns ? "" : HTML(" checked"))> \(label)</span></label> "
        }
        let form: HTML = canManage ? """
        <form method="post" action="/console/application-keys">\(ConsolePage.csrfField(context.csrf))
        <section class="card"><h2>Generate key</h2><p><label>Name <input name="name" required maxlength="100" placeholder="Splunk, Sentinel, Workspace ONE Intelligence"></label></p>
        <fieldset><legend>Scopes</legend>\(checkboxes)</fieldset>
        <p><button type="submit">Generate key</button> <span class="muted">Valid for \(Int(req.application.mtd.mobileRisk.settings.keys.keyLifetime / 86_400)) days; shown once.</span></p></section></form>
        """ : "<p class=\"muted\">Only owners create and revoke application keys.</p>"
        return ConsolePage.render(req, title: "Application keys", section: .applicationKeys, content: """
        \(notice ?? "")<p>Connectors written for Lookout's Mobile Risk API (Workspace ONE Intelligence, Splunk, Sentinel, QRadar, Cortex XSOAR) \
        read this server's threats and events with a key from this page. See docs/mobile-risk-api.md.</p>\(form)<h2>Keys</h2>\(table)
        """, status: status)
    }

    static func create(_ req: Request) async throws -> Response {
        let context = try req.console
        guard context.principal.role.canManageEnterprise else {
            return ConsolePage.error(req, status: .forbidden, title: "Not allowed", message: "Only owners create application keys.")
        }
        let fields = try req.content.decode([String: String].self)
        let scopes = scopeLabels.map(\.0).filter { fields["scope_\($0.rawValue)"] == "1" }.map(\.rawValue)
        let created: ApplicationKeys.Created
        do {
            created = try await req.application.mtd.mobileRisk.keys.create(
                enterpriseID: context.principal.enterpriseID, name: fields["name"] ?? "", scopes: scopes, createdBy: context.principal.email,
                now: Date(), on: req.db)
        } catch let error as MRAError where error.status == .badRequest {
            return try await render(req, notice: "<p class=\"notice error\" role=\"alert\">\(error.message)</p>", status: .unprocessableEntity)
        }
        let server = req.headers.first(name: .host).map { "\(req.application.mtd.configuration.tlsCertificatePath == nil ? "http" : "https")://\($0)" } ?? ""
        let response = try await render(req, notice: """
        <div class="notice ok" role="status" id="new-key"><p>Key <strong>\(created.key.name)</strong> created. Copy it now: it is not shown again.</p>
        <pre>\(created.secret)</pre><p>In the connector: base URL <code>\(server)</code>, application key as above. It asks \
        <code>\(server)/oauth2/token</code> for access tokens and reads <code>\(server)/mra/stream/v2/events</code>.</p></div>
        """)
        response.headers.cacheControl = .init(noStore: true)
        return response
    }

    static func revoke(_ req: Request) async throws -> Response {
        let context = try req.console
        guard context.principal.role.canManageEnterprise else {
            return ConsolePage.error(req, status: .forbidden, title: "Not allowed", message: "Only owners revoke application keys.")
        }
        guard let id = req.parameters.get("id", as: UUID.self),
              try await req.application.mtd.mobileRisk.keys.revoke(id: id, enterpriseID: context.principal.enterpriseID, by: context.principal.email, now: Date(), on: req.db)
        else {
            return ConsolePage.error(req, status: .notFound, title: "Not found", message: "There is no such application key.")
        }
        return try await render(req, notice: "<p class=\"notice ok\" role=\"status\">Key revoked; its access tokens stopped working.</p>")
    }
}
