import FluentKit
import Foundation
import MTDCore
import MTDStore
import Vapor

/// `/console/devices` and `/console/devices/{id}`.
enum ConsoleDevicePages {
    static func list(_ req: Request) async throws -> Response {
        let context = try req.console
        let (query, filters) = try await DeviceController.filteredQuery(req, enterpriseID: context.principal.enterpriseID)
        let window = try PageWindow(page: filters.page, size: filters.pageSize, sizeParameter: "pageSize", defaultSize: 50, maximumSize: 200)
        let (page, pageSize) = (window.page, window.size)
        let total = try await query.copy().count()
        let devices = try await query.sort(\.$lastCheckInHour, .descending).sort(\.$lastCheckInAt, .descending).sort(\.$id).range(window.range).all()
        let rows: [HTML] = devices.map { device in
            """
            <tr><td><a href="/console/devices/\(device.id?.uuidString.lowercased() ?? "")">\(device.email ?? device.udid ?? device.id?.uuidString ?? "device")</a></td>\
            <td>\(device.platform == "IOS" ? "iOS" : "Android") \(device.osVersion ?? "")</td><td>\(device.model ?? "")</td>\
            <td>\(ConsolePage.badge(device.activationStatus))</td><td>\(ConsolePage.badge(device.connectionStatus))</td><td>\(ConsolePage.badge(device.securityStatus))</td>\
            <td>\(ConsolePage.date(device.lastCheckInAt))</td></tr>
            """
        }
        let csvQuery = req.url.query.map { "?" + $0 } ?? ""
        let table: HTML = devices.isEmpty
            ? "<p class=\"notice\">No device matches these filters. <a href=\"/console/devices\">Clear the filters</a>.</p>"
            : """
            <div class="table-wrap"><table><caption class="muted">Devices, most recent check-in first</caption><thead><tr><th scope="col">Device</th><th scope="col">OS</th>\
            <th scope="col">Model</th><th scope="col">Activation</th><th scope="col">Connection</th><th scope="col">Security</th><th scope="col">Last check-in</th></tr></thead>\
            <tbody>\(rows)</tbody></table></div>\(ConsolePage.pager(req, page: page, pageSize: pageSize, total: total))
            """
        return ConsolePage.render(req, title: "Devices", section: .devices, content: """
        <form class="filters" method="get" action="/console/devices" role="search">
        <label>Search <input type="search" name="q" value="\(filters.q ?? "")" placeholder="e-mail, UDID or UEM id"></label>
        \(ConsolePage.select("platform", label: "Platform", options: Platform.allCases.map(\.rawValue), selected: filters.platform?.rawValue))
        \(ConsolePage.select("activation", label: "Activation", options: ActivationStatus.allCases.map(\.rawValue), selected: filters.activation?.rawValue))
        \(ConsolePage.select("connection", label: "Connection", options: ConnectionStatus.allCases.map(\.rawValue), selected: filters.connection?.rawValue))
        \(ConsolePage.select("security", label: "Security", options: SecurityStatus.allCases.map(\.rawValue), selected: filters.security?.rawValue))
        \(ConsolePage.select("classification", label: "Open threat", options: ThreatClassification.allCases.map(\.rawValue), selected: filters.classification?.rawValue))
        <label>OS version <input type="text" name="osVersion" value="\(filters.osVersion ?? "")" size="6"></label>
        <button type="submit">Filter</button> <a class="button secondary" href="/console/devices.csv\(csvQuery)">Export CSV</a></form>
        \(table)
        """)
    }

    static func csv(_ req: Request) async throws -> Response {
        _ = try req.console
        return try await DeviceController.csv(req)
    }

    static func detail(_ req: Request) async throws -> Response {
        let context = try req.console
        guard let id = req.parameters.get("id", as: UUID.self),
              let device = try await DeviceModel.query(on: req.db).filter(\.$id == id).filter(\.$enterprise.$id == context.principal.enterpriseID).first()
        else { return ConsolePage.error(req, status: .notFound, title: "No such device", message: "This device does not exist in your enterprise.") }
        let detail = try await DeviceController.detail(of: device, principal: context.principal, on: req.db)
        let tags = try await AppliedTagModel.query(on: req.db).filter(\.$device.$id == id).sort(\.$tagName).all()
        let canAct = context.principal.role.canActOnThreats
        let back = "/console/devices/\(id.uuidString.lowercased())"
        let threats: [HTML] = detail.threats.map { threat in
            let history: [HTML] = (threat.history ?? []).map { event in
                "<li>\(ConsolePage.date(event.created_time)): \(event.change_type.lowercased()) by \(event.actor.guid ?? event.actor.type)</li>"
            }
            return """
            <article class="card threat"><h3>\(threat.classification.replacingOccurrences(of: "_", with: " ").lowercased()) \(ConsolePage.badge(threat.severity)) \(ConsolePage.badge(threat.status))</h3>
            <p>\(threat.subject) · detected \(ConsolePage.date(threat.detectedAt))\(threat.statusReason.map { " · “\($0)”" } ?? "")</p>
            \(evidence(threat.evidence))<details><summary>Timeline</summary><ul>\(history)</ul></details>
            \(canAct ? ConsoleThreatPages.actions(threat, csrf: context.csrf, back: back) : "")</article>
            """
        }
        let apps: [HTML] = detail.apps.map { app in
            "<tr><td>\(app.id)</td><td>\(app.name ?? "")</td><td>\(app.version ?? "")</td><td>\(app.source?.lowercased() ?? "")</td></tr>"
        }
        let facts: HTML = detail.lastFacts.map { "<pre>\(prettyJSON($0))</pre>" } ?? "<p class=\"muted\">No check-in yet.</p>"
        let activity = activityByApp(detail.lastFacts)
        let automations = try await ConsoleAutomationsPage.deviceSection(req, deviceID: id, enterpriseID: context.principal.enterpriseID)
        let dns = try await ConsoleDeviceDNS.section(req, deviceID: id, principal: context.principal)
        return ConsolePage.render(req, title: device.email ?? device.udid ?? "Device", section: .devices, content: """
        \(ConsoleThreatPages.notice(req))<div class="cards"><section class="card"><h2>State</h2><dl class="facts">
        <dt>Security</dt><dd>\(ConsolePage.badge(device.securityStatus))</dd><dt>Activation</dt><dd>\(ConsolePage.badge(device.activationStatus))</dd>
        <dt>Connection</dt><dd>\(ConsolePage.badge(device.connectionStatus))</dd><dt>Last check-in</dt><dd>\(ConsolePage.date(device.lastCheckInAt))</dd>
        <dt>Platform</dt><dd>\(device.platform) \(device.osVersion ?? "") \(device.model ?? "")</dd><dt>Mode</dt><dd>\(device.mode?.lowercased() ?? "")</dd>
        <dt>UDID</dt><dd>\(device.udid ?? "")</dd><dt>UEM id</dt><dd>\(device.uemDeviceID.map(String.init) ?? "not in the UEM")</dd></dl></section>
        <section class="card"><h2>In the UEM</h2><p>Tags as applied:</p><ul>\(tags.isEmpty ? [HTML("<li class=\"muted\">none</li>")] : tags.map { "<li>\($0.tagName)</li>" })</ul>
        <p>Threat level reported for compliance: <strong>\(device.uemThreatLevel ?? "none")</strong></p></section></div>
        <h2>Threats</h2>\(threats.isEmpty ? [HTML("<p class=\"muted\">No threats have been detected on this device.</p>")] : threats)
        <h2>Automations</h2>\(automations)
        \(dns)
        <h2>Network activity by app</h2>\(activity)
        <h2>Apps (\(detail.apps.count))</h2><div class="table-wrap"><table><thead><tr><th scope="col">Id</th><th scope="col">Name</th><th scope="col">Version</th><th scope="col">Source</th></tr></thead><tbody>\(apps)</tbody></table></div>
        <h2>Last posture</h2>\(facts)
        """)
    }

    /// Evidence as a definition list: every finding says what was observed, where, and against which source.
    static func evidence(_ value: JSONValue) -> HTML {
        guard case .object(let fields) = value else { return "" }
        let rows: [HTML] = fields.sorted { $0.key < $1.key }.map { key, value in
            "<dt>\(key)</dt><dd>\(text(value))</dd>"
        }
        return "<dl class=\"facts\">\(rows)</dl>"
    }

    static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        // Int(exactly:) and not Int(_:): a whole number past Int's range (1e300) would trap.
        case .number(let number): Int(exactly: number).map(String.init) ?? String(number)
        case .bool(let flag): flag ? "yes" : "no"
        case .null: ""
        case .array(let items): items.map(text).joined(separator: ", ")
        case .object: prettyJSON(value)
        }
    }

    static func prettyJSON(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Hosts contacted per app, from the last check-in's activity.
    static func activityByApp(_ facts: JSONValue?) -> HTML {
        guard case .array(let items)? = facts?["activity"], !items.isEmpty else { return "<p class=\"muted\">No network activity in the last check-in.</p>" }
        var byApp: [String: [String]] = [:]
        for item in items {
            let app = item["app"]?.stringValue ?? "unknown app"
            if let host = item["host"]?.stringValue { byApp[app, default: []].append(host) }
        }
        let rows: [HTML] = byApp.sorted { $0.key < $1.key }.map { "<tr><td>\($0.key)</td><td>\($0.value.sorted().joined(separator: ", "))</td></tr>" }
        return "<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">App</th><th scope=\"col\">Hosts contacted</th></tr></thead><tbody>\(rows)</tbody></table></div>"
    }
}
