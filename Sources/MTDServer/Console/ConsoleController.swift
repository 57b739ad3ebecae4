import MTDServices
import FluentKit
import Foundation
import MTDCore
import MTDStore
import SQLKit
import UEMClient
import Vapor

/// `/console`: login, logout and the dashboard.
enum ConsoleController {
    static func loginForm(_ req: Request) async throws -> Response {
        // Double-submit token for the login form itself: a cookie and the same value in the form.
        let token = String(Secrets.token(prefix: "").prefix(32))
        let next = safeNext(req.query[String.self, at: "next"])
        let response = loginPage(req, csrf: token, next: next, message: nil, status: .ok)
        response.cookies[ConsoleSession.loginCookie] = HTTPCookies.Value(string: token, expires: Date().addingTimeInterval(1800), maxAge: 1800,
                                                                         path: "/console", isSecure: isSecure(req), isHTTPOnly: true, sameSite: .strict)
        return response
    }

    static func login(_ req: Request) async throws -> Response {
        struct Form: Content {
            var email: String?
            var password: String?
            var next: String?
            var _csrf: String?
        }
        let form = (try? req.content.decode(Form.self)) ?? Form()
        let cookie = req.cookies[ConsoleSession.loginCookie]?.string ?? ""
        let next = safeNext(form.next)
        guard !cookie.isEmpty, form._csrf == cookie else {
            return loginPage(req, csrf: cookie, next: next, message: "The login form expired; reload the page and try again.", status: .forbidden)
        }
        let limiter = req.application.mtd.loginLimiter
        let client = req.clientAddress
        if let wait = try await limiter.wait(client, on: req.db) {
            return loginPage(req, csrf: cookie, next: next, message: "Too many failed logins from this address; try again in \(wait) seconds.", status: .tooManyRequests)
        }
        let email = (form.email ?? "").lowercased().trimmingCharacters(in: .whitespaces)
        guard let admin = try await AdminModel.query(on: req.db).filter(\.$email == email).first(),
              try Bcrypt.verify(form.password ?? "", created: admin.passwordHash)
        else {
            try await limiter.take(client, on: req.db)
            return loginPage(req, csrf: cookie, next: next, message: "Wrong e-mail or password.", status: .unauthorized)
        }
        let token = Secrets.token(prefix: "mtdc_")
        let session = APITokenModel()
        session.$admin.id = try admin.requireID()
        session.tokenHash = Secrets.hash(token)
        session.name = "console"
        session.scopes = "read write"
        session.kind = "console"
        session.expiresAt = Date().addingTimeInterval(ConsoleSession.hours * 3600)
        try await req.application.mtd.writes.run { try await session.create(on: req.db) }
        let response = req.redirect(to: next, redirectType: .normal)
        response.cookies[ConsoleSession.cookie] = HTTPCookies.Value(string: token, expires: session.expiresAt, maxAge: Int(ConsoleSession.hours * 3600),
                                                                    path: "/", isSecure: isSecure(req), isHTTPOnly: true, sameSite: .strict)
        response.cookies[ConsoleSession.loginCookie] = .expired
        return response
    }

    static func logout(_ req: Request) async throws -> Response {
        let context = try req.console
        try await req.application.mtd.writes.run { try await APITokenModel.find(context.principal.tokenID, on: req.db)?.delete(on: req.db) }
        let response = req.redirect(to: "/console/login", redirectType: .normal)
        response.cookies[ConsoleSession.cookie] = .expired
        return response
    }

    static func loginPage(_ req: Request, csrf: String, next: String, message: String?, status: HTTPResponseStatus) -> Response {
        let notice: HTML = message.map { "<p class=\"notice error\" role=\"alert\">\($0)</p>" } ?? ""
        return ConsolePage.render(req, title: "Log in", section: nil, content: """
        \(notice)<form method="post" action="/console/login" class="card login">
        \(ConsolePage.csrfField(csrf))<input type="hidden" name="next" value="\(next)">
        <p><label>E-mail <input type="email" name="email" autocomplete="email" required autofocus></label></p>
        <p><label>Password <input type="password" name="password" autocomplete="current-password" required></label></p>
        <p><button type="submit">Log in</button></p></form>
        """, status: status)
    }

    /// Only paths inside the console: never an open redirect.
    static func safeNext(_ value: String?) -> String {
        guard let value, value.hasPrefix("/console"), !value.hasPrefix("//"), !value.contains("\\") else { return "/console" }
        return value
    }

    static func isSecure(_ req: Request) -> Bool {
        req.application.mtd.configuration.tlsCertificatePath != nil
    }

    // MARK: Dashboard

    static func dashboard(_ req: Request) async throws -> Response {
        let context = try req.console
        let model = try await dashboardModel(enterpriseID: context.principal.enterpriseID, on: req.db, now: Date())
        let sync = await req.application.mtd.uemSync.status()
        func donut(_ title: String, _ segments: [SVGChart.Segment]) -> HTML {
            let legend = segments.map { segment -> HTML in
                "<li><span><span class=\"swatch s-\(String(segment.tone.dropFirst(2)))\"></span>\(segment.label)</span><span>\(segment.value)</span></li>"
            }
            return "<section class=\"card\"><h2>\(title)</h2>\(SVGChart.donut(segments, title: title))<ul class=\"legend\">\(legend)</ul></section>"
        }
        let classifications: HTML = model.openThreatsByClassification.isEmpty ? "<p class=\"muted\">No open threats.</p>" : """
        <div class="table-wrap"><table><thead><tr><th scope="col">Classification</th><th scope="col">Open threats</th></tr></thead><tbody>\(model.openThreatsByClassification.map { row -> HTML in
            "<tr><td><a href=\"/console/threats?status=OPEN&amp;classification=\(row.0)\">\(row.0.replacingOccurrences(of: "_", with: " ").lowercased())</a></td><td>\(row.1)</td></tr>"
        })</tbody></table></div>
        """
        let latency: HTML = model.syncLatency.map { value in
            "<p class=\"figure\">\(String(format: "%.1f", value.median)) s</p><p class=\"muted\">median over \(model.syncLatencies.count) threats in 14 days; 95th percentile \(String(format: "%.1f", value.p95)) s</p>"
        } ?? "<p class=\"muted\">No threat reached the UEM in the last 14 days.</p>"
        let health: HTML = sync.connected
            ? "<p>\(ConsolePage.badge("CONNECTED")) \(sync.info?.product ?? "UEM")</p><p class=\"muted\">last sync \(ConsolePage.date(sync.lastSuccess)); \(sync.pendingChanges) changes pending; \(sync.errors) errors</p>"
            : "<p>\(ConsolePage.badge("DISCONNECTED"))</p><p class=\"muted\">\(sync.lastError ?? "connecting…")</p><p><a href=\"/console/integrations\">Check the UEM connection</a></p>"
        let chart = SVGChart.lines([SVGChart.Series(label: "Opened", tone: "c-high", values: model.opened), SVGChart.Series(label: "Resolved", tone: "c-secure", values: model.resolved)],
                                   days: model.days, title: "Threats opened and resolved per day, last 14 days")
        return ConsolePage.render(req, title: "Dashboard", section: .dashboard, content: """
        <div class="cards">\(donut("Security status", model.securitySegments))\(donut("Activation", model.activationSegments))\(donut("Connection", model.connectionSegments))
        <section class="card"><h2>Detection to UEM</h2>\(latency)<h2>UEM connector</h2>\(health)</section></div>
        <h2>Threats over time</h2><section class="card">\(chart)<ul class="legend"><li><span><span class="swatch s-high"></span>Opened</span><span>\(model.opened.reduce(0, +))</span></li>\
        <li><span><span class="swatch s-secure"></span>Resolved</span><span>\(model.resolved.reduce(0, +))</span></li></ul></section>
        <h2>Open threats by classification</h2>\(classifications)\(dnsPanel(model, resolverOn: req.application.mtd.dns.current != nil))
        """)
    }

    /// Protective DNS: names blocked and logged per day, when the resolver runs or has counted.
    static func dnsPanel(_ model: DashboardModel, resolverOn: Bool) -> HTML {
        let blocked = model.dnsBlocked.reduce(0, +), logged = model.dnsLogged.reduce(0, +)
        guard resolverOn || blocked + logged > 0 else { return "" }
        let chart = SVGChart.lines([SVGChart.Series(label: "Blocked", tone: "c-high", values: model.dnsBlocked),
                                    SVGChart.Series(label: "Logged only", tone: "c-medium", values: model.dnsLogged)],
                                   days: model.days, title: "Names the protective resolver blocked and logged per day, last 14 days")
        return """
        <h2>Protective DNS</h2><section class="card" id="dns-blocks">\(chart)<ul class="legend"><li><span><span class="swatch s-high"></span>Blocked</span>\
        <span>\(blocked)</span></li><li><span><span class="swatch s-medium"></span>Logged only</span><span>\(logged)</span></li></ul>\
        \(resolverOn ? "" : HTML("<p class=\"muted\">The resolver is off on this replica.</p>"))</section>
        """
    }

    static func dashboardModel(enterpriseID: UUID, on database: any Database, now: Date) async throws -> DashboardModel {
        guard let sql = database as? any SQLDatabase else { throw APIError(status: .internalServerError, code: "internal_error", message: "SQL database required") }
        struct Count: Decodable {
            var key: String
            var n: Int
        }
        func grouped(_ column: String, from table: String, extra: SQLQueryString = "") async throws -> [String: Int] {
            let rows = try await sql.raw("SELECT \(unsafeRaw: column) AS key, COUNT(*) AS n FROM \(unsafeRaw: table) WHERE enterprise_id = \(bind: enterpriseID) \(extra) GROUP BY \(unsafeRaw: column)")
                .all(decoding: Count.self)
            return Dictionary(rows.map { ($0.key, $0.n) }, uniquingKeysWith: +)
        }
        let security = try await grouped("security_status", from: "devices", extra: "AND activation_status = 'ACTIVATED'")
        let activation = try await grouped("activation_status", from: "devices")
        let connection = try await grouped("connection_status", from: "devices", extra: "AND activation_status = 'ACTIVATED'")
        let classifications = try await grouped("classification", from: "threats", extra: "AND status = 'OPEN'").sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        let today = Timestamp.day(of: now)
        let since = now.addingTimeInterval(-14 * 86_400)
        struct Dates: Decodable {
            var detected_at: Date
            var resolved_at: Date?
        }
        let recent = try await sql.select().column("detected_at").column("resolved_at").from("threats")
            .where("enterprise_id", .equal, enterpriseID)
            .where { $0.where("detected_at", .greaterThanOrEqual, since).orWhere("resolved_at", .greaterThanOrEqual, since) }
            .all(decoding: Dates.self)
        // Detection to UEM: the "threats present" tag's confirmation after the device's first open threat.
        struct Applied: Decodable {
            var device_id: UUID
            var applied_at: Date
        }
        struct FirstThreat: Decodable {
            var device_id: UUID
            var first: Date
        }
        let applied = try await sql.select().column("device_id").column("applied_at").from(AppliedTagModel.schema)
            .where("tag_name", .equal, TagMapping().threatsPresent ?? "").where("applied_at", .greaterThanOrEqual, since).all(decoding: Applied.self)
        let firsts = try await sql.raw("SELECT device_id, MIN(detected_at) AS first FROM threats WHERE enterprise_id = \(bind: enterpriseID) AND detected_at >= \(bind: since) GROUP BY device_id")
            .all(decoding: FirstThreat.self)
        let firstByDevice = Dictionary(firsts.map { ($0.device_id, $0.first) }, uniquingKeysWith: min)
        let latencies = applied.compactMap { tag -> Double? in
            guard let first = firstByDevice[tag.device_id], tag.applied_at >= first else { return nil }
            return tag.applied_at.timeIntervalSince(first)
        }
        let firstDay = today - 13
        let blocked = try await DNSDailyCounts.blocks(enterpriseID: enterpriseID, from: firstDay, on: sql)
        let logged = try await DNSDailyCounts.blocks(enterpriseID: enterpriseID, from: firstDay, verdict: "LOG_ONLY", on: sql)
        var model = DashboardModel(
            security: security, activation: activation, connection: connection, openThreatsByClassification: classifications.map { ($0.key, $0.value) },
            days: DashboardModel.dayLabels(today: today, days: 14),
            opened: DashboardModel.perDay(recent.map(\.detected_at), today: today, days: 14),
            resolved: DashboardModel.perDay(recent.compactMap(\.resolved_at), today: today, days: 14),
            syncLatencies: latencies)
        model.dnsBlocked = DashboardModel.series(blocked, today: today, days: 14)
        model.dnsLogged = DashboardModel.series(logged, today: today, days: 14)
        return model
    }
}
