import FluentKit
import Foundation
import MTDCore
import MTDIntel
import MTDStore
import SQLKit
import Vapor

/// `/console/apps`: the fleet's app inventory, and one app in detail with the hosts it contacts
/// grouped into cloud services and registrable domains (the seed article's app drill-down).
enum ConsoleAppPages {
    struct Row: Decodable {
        var app_id: String
        var devices: Int
    }

    static func list(_ req: Request) async throws -> Response {
        let context = try req.console
        guard let sql = req.db as? any SQLDatabase else { throw Abort(.internalServerError) }
        let enterpriseID = context.principal.enterpriseID
        let search = req.query[String.self, at: "q"]?.trimmingCharacters(in: .whitespaces) ?? ""
        let window = try PageWindow(pageText: req.query[String.self, at: "page"], sizeText: nil, sizeParameter: "pageSize", defaultSize: 50, maximumSize: 50)
        let (page, pageSize) = (window.page, window.size)
        let filter: SQLQueryString = search.isEmpty ? "" : "AND (LOWER(app_id) LIKE \(bind: "%\(search.lowercased())%") OR LOWER(name) LIKE \(bind: "%\(search.lowercased())%"))"
        // Counted from indexes only (one row per device and app); names and versions for this page alone.
        let rows = try await sql.raw("""
            SELECT app_id, COUNT(*) AS devices FROM device_apps WHERE enterprise_id = \(bind: enterpriseID) \(filter) \
            GROUP BY app_id ORDER BY devices DESC, app_id LIMIT \(bind: pageSize) OFFSET \(bind: window.offset)
            """).all(decoding: Row.self)
        struct Total: Decodable { var n: Int }
        let total = try await sql.raw("SELECT COUNT(DISTINCT app_id) AS n FROM device_apps WHERE enterprise_id = \(bind: enterpriseID) \(filter)")
            .first(decoding: Total.self)?.n ?? 0
        struct Versions: Decodable {
            var app_id: String
            var versions: Int
        }
        let versionCounts = rows.isEmpty ? [] : try await sql.select().column("app_id").column(SQLFunction("COUNT", args: SQLDistinct("version")), as: "versions")
            .from(DeviceAppModel.schema).where("enterprise_id", .equal, enterpriseID).where("app_id", .in, rows.map(\.app_id)).groupBy("app_id")
            .all(decoding: Versions.self)
        let versions = Dictionary(versionCounts.map { ($0.app_id, $0.versions) }, uniquingKeysWith: max)
        var names: [String: String] = [:]
        for row in rows {
            names[row.app_id] = try await DeviceAppModel.query(on: req.db).filter(\.$enterpriseID == enterpriseID).filter(\.$appID == row.app_id)
                .filter(\.$name != nil).first()?.name
        }
        let risk = try await risks(of: rows.map(\.app_id), enterpriseID: context.principal.enterpriseID, on: req.db)
        let body: [HTML] = rows.map { row in
            let level = risk[row.app_id]
            return """
            <tr><td><a href="/console/apps/\(row.app_id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? row.app_id)">\(row.app_id)</a></td><td>\(names[row.app_id] ?? "")</td>\
            <td>\(versions[row.app_id] ?? 0)</td><td>\(row.devices)</td><td>\(level.map { ConsolePage.badge($0.rawValue) } ?? ConsolePage.badge("SECURE"))</td></tr>
            """
        }
        let table: HTML = rows.isEmpty ? "<p class=\"notice\">No app matches.</p>" : """
        <div class="table-wrap"><table><thead><tr><th scope="col">App id</th><th scope="col">Name</th><th scope="col">Versions</th><th scope="col">Devices</th>\
        <th scope="col">Risk</th></tr></thead><tbody>\(body)</tbody></table></div>\(ConsolePage.pager(req, page: page, pageSize: pageSize, total: total))
        """
        return ConsolePage.render(req, title: "Apps", section: .apps, content: """
        <form class="filters" method="get" action="/console/apps" role="search"><label>Search <input type="search" name="q" value="\(search)" placeholder="app id or name"></label>\
        <button type="submit">Search</button></form>\(table)
        """)
    }

    /// The highest severity of open threats about each app.
    static func risks(of appIDs: [String], enterpriseID: UUID, on db: any Database) async throws -> [String: Severity] {
        guard !appIDs.isEmpty else { return [:] }
        let threats = try await ThreatModel.query(on: db).filter(\.$enterpriseID == enterpriseID).filter(\.$status == ThreatStatus.open)
            .filter(\.$subject ~~ appIDs).all()
        var result: [String: Severity] = [:]
        for threat in threats {
            result[threat.subject] = max(result[threat.subject] ?? .none, threat.severity)
        }
        return result
    }

    static func detail(_ req: Request) async throws -> Response {
        let context = try req.console
        guard let appID = req.parameters.get("app")?.removingPercentEncoding, !appID.isEmpty else { throw Abort(.notFound) }
        let installs = try await DeviceAppModel.query(on: req.db).filter(\.$enterpriseID == context.principal.enterpriseID).filter(\.$appID == appID).all()
        guard !installs.isEmpty else { return ConsolePage.error(req, status: .notFound, title: "No such app", message: "No device in your enterprise has \(appID).") }
        let devices = try await DeviceModel.query(on: req.db).filter(\.$id ~~ installs.map { $0.$device.id }).all()
        let intelligence = req.application.mtd.intelligence
        var byService: [String: Set<String>] = [:]
        var byDomain: [String: Set<String>] = [:]
        for device in devices {
            guard case .array(let items)? = device.lastFacts.map(JSONValue.init(jsonText:))?["activity"] else { continue }
            for item in items where item["app"]?.stringValue == appID {
                guard let host = item["host"]?.stringValue else { continue }
                if let service = intelligence.cloudServices.service(forHost: host) { byService[service.name, default: []].insert(host) }
                byDomain[intelligence.publicSuffixList.registrableDomain(of: host) ?? host, default: []].insert(host)
            }
        }
        let violations = try await ThreatModel.query(on: req.db).filter(\.$enterpriseID == context.principal.enterpriseID).filter(\.$subject == appID)
            .sort(\.$detectedAt, .descending).all()
        let versions = Set(installs.compactMap(\.version)).sorted()
        let signers = Set(installs.compactMap { $0.signerSha256 ?? $0.signerSha1 }).sorted()
        let sources = Set(installs.compactMap(\.source)).sorted()
        let permissions = Set(installs.flatMap { install -> [String] in
            guard let text = install.permissions, case .array(let items) = JSONValue(jsonText: text) else { return [] }
            return items.compactMap(\.stringValue)
        }).sorted()
        func list(_ values: [String]) -> HTML { values.isEmpty ? "<span class=\"muted\">none reported</span>" : "\(values.joined(separator: ", "))" }
        let deviceRows: [HTML] = devices.prefix(200).map { device in
            "<tr><td><a href=\"/console/devices/\(device.id?.uuidString.lowercased() ?? "")\">\(device.email ?? device.udid ?? "device")</a></td><td>\(ConsolePage.badge(device.securityStatus))</td></tr>"
        }
        let serviceRows: [HTML] = byService.sorted { $0.key < $1.key }.map { "<tr><td>\($0.key)</td><td>\($0.value.sorted().joined(separator: ", "))</td></tr>" }
        let domainRows: [HTML] = byDomain.sorted { $0.key < $1.key }.map { "<tr><td>\($0.key)</td><td>\($0.value.sorted().joined(separator: ", "))</td></tr>" }
        let violationRows: [HTML] = violations.map {
            "<tr><td>\($0.classification.replacingOccurrences(of: "_", with: " ").lowercased())</td><td>\(ConsolePage.badge($0.severity))</td><td>\(ConsolePage.badge($0.status))</td><td><a href=\"/console/devices/\($0.$device.id.uuidString.lowercased())\">device</a></td></tr>"
        }
        return ConsolePage.render(req, title: installs.compactMap(\.name).first ?? appID, section: .apps, content: """
        <section class="card"><dl class="facts"><dt>App id</dt><dd>\(appID)</dd><dt>Devices</dt><dd>\(devices.count)</dd><dt>Versions</dt><dd>\(list(versions))</dd>
        <dt>Signers</dt><dd>\(list(signers))</dd><dt>Sources</dt><dd>\(list(sources.map { $0.lowercased() }))</dd><dt>Permissions</dt><dd>\(list(permissions))</dd></dl></section>
        <h2>Policy violations and threats</h2>\(violationRows.isEmpty ? [HTML("<p class=\"muted\">None.</p>")] : ["<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Classification</th><th scope=\"col\">Severity</th><th scope=\"col\">Status</th><th scope=\"col\">Device</th></tr></thead><tbody>\(violationRows)</tbody></table></div>"])
        <h2>Network activity</h2><h3>Cloud services</h3>\(serviceRows.isEmpty ? [HTML("<p class=\"muted\">No known cloud service contacted in the last check-ins.</p>")] : ["<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Service</th><th scope=\"col\">Hosts</th></tr></thead><tbody>\(serviceRows)</tbody></table></div>"])
        <h3>Registrable domains</h3>\(domainRows.isEmpty ? [HTML("<p class=\"muted\">No activity reported for this app.</p>")] : ["<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Domain</th><th scope=\"col\">Hosts</th></tr></thead><tbody>\(domainRows)</tbody></table></div>"])
        <h2>Devices</h2><div class="table-wrap"><table><thead><tr><th scope="col">Device</th><th scope="col">Security</th></tr></thead><tbody>\(deviceRows)</tbody></table></div>
        """)
    }
}
