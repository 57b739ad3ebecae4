import FluentKit
import Foundation
import MTDCore
import MTDStore
import SQLKit
import Vapor

/// The device page's "Protective DNS" section: whether the device's resolver token is active and
/// when it last queried, and, where the policy keeps a query log, its queries newest first, paged
/// by `?dnsBefore=`. Like the admin API, only owners and analysts see what a device looked up.
enum ConsoleDeviceDNS {
    static let pageSize = 50

    static func section(_ req: Request, deviceID: UUID, principal: AdminPrincipal) async throws -> HTML {
        let tokens = try await ResolverTokens.state(deviceID: deviceID, on: req.db)
        let state: HTML = if let active = tokens.active {
            "\(ConsolePage.badge("ACTIVE")) since \(ConsolePage.date(active.createdAt)) · last query \(ConsolePage.date(active.lastQueryAt))"
        } else if let revoked = tokens.newest {
            "\(ConsolePage.badge("REVOKED")) at \(ConsolePage.date(revoked.revokedAt)): the device's queries count for the enterprise only"
        } else {
            "<span class=\"muted\">no resolver token (activated before the resolver existed; it gets one when it activates again)</span>"
        }
        let days = try await req.application.mtd.policies.current(for: principal.enterpriseID, on: req.db).engine.protectiveDNSRules.queryLogDays
        let log: HTML
        if days == nil {
            log = "<p class=\"muted\">The query log is off: the resolver keeps only counts. The policy's protectiveDNS.queryLogDays (1–90) keeps each query of a device.</p>"
        } else if !principal.role.canActOnThreats {
            log = "<p class=\"muted\">What a device looked up is personal: owners and analysts see its queries.</p>"
        } else {
            log = try await queries(req, deviceID: deviceID, enterpriseID: principal.enterpriseID, days: days ?? 0)
        }
        return """
        <section class="card" id="dns"><h2>Protective DNS</h2><p>Resolver token: \(state)</p>\(log)</section>
        """
    }

    private static func queries(_ req: Request, deviceID: UUID, enterpriseID: UUID, days: Int) async throws -> HTML {
        var before: Date?
        if let text = req.query[String.self, at: "dnsBefore"], !text.isEmpty {
            guard let date = Timestamp.dateTime(text) else {
                return "<p class=\"error\" role=\"alert\">dnsBefore must be a date and time such as 2026-12-07T10:00:00Z.</p>"
            }
            before = date
        }
        guard let sql = req.db as? any SQLDatabase else { return "<p class=\"muted\">The query log needs an SQL database.</p>" }
        let entries = try await DNSQueryLog.list(deviceID: deviceID, enterpriseID: enterpriseID, before: before, limit: pageSize, on: sql)
        let rows: [HTML] = entries.map { entry in
            let verdict: HTML = switch entry.action {
            case "BLOCK": "<span class=\"badge bad\">blocked</span>"
            case "LOG_ONLY": "<span class=\"badge warn\">logged</span>"
            default: "<span class=\"muted\">allowed</span>"
            }
            return """
            <tr><td>\(ConsolePage.date(entry.askedAt))</td><td>\(entry.name)</td><td>\(entry.type)</td><td>\(verdict)</td>\
            <td>\(entry.classification?.replacingOccurrences(of: "_", with: " ").lowercased())</td><td>\(entry.indicator)</td></tr>
            """
        }
        let kept = "<p>Queries are kept \(days) days (policy protectiveDNS.queryLogDays).</p>" as HTML
        guard !rows.isEmpty else {
            return "\(kept)<p class=\"muted\">\(before == nil ? "No query logged yet." : "No older queries.")</p>"
        }
        var older: HTML = ""
        if entries.count == pageSize, let last = entries.last {
            let cursor = Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(last.askedAt)
            older = "<p><a href=\"?dnsBefore=\(cursor)#dns\">Older queries</a></p>"
        }
        return """
        \(kept)<div class="table-wrap"><table><caption>Newest first</caption><thead><tr><th scope="col">Asked</th><th scope="col">Name</th><th scope="col">Type</th>\
        <th scope="col">Action</th><th scope="col">Class</th><th scope="col">Indicator</th></tr></thead><tbody>\(rows)</tbody></table></div>\(older)
        """
    }
}
