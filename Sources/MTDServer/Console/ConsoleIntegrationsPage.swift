import FluentKit
import Foundation
import MTDCore
import MTDStore
import UEMClient
import Vapor

/// `/console/integrations`: the UEM connection (address, tenant code, credentials test), the tag
/// mapping with its validation result, sync status, and enrollment (codes and copy-ready agent
/// configuration).
enum ConsoleIntegrationsPage {
    struct Outcome {
        var ok: String?
        var error: APIError?
        var test: UEMConnectionTest?
    }

    static func show(_ req: Request) async throws -> Response {
        let saved = req.query[String.self, at: "saved"] != nil ? "UEM connection saved; devices are being reconciled." : nil
        return try await render(req, form: nil, outcome: Outcome(ok: saved))
    }

    static func render(_ req: Request, form: UEMIntegrationRequest?, outcome: Outcome, status: HTTPResponseStatus = .ok) async throws -> Response {
        let context = try req.console
        let services = req.application.mtd
        let settings = try await UEMIntegrationSettings.load(enterpriseID: context.principal.enterpriseID, configuration: services.configuration, on: req.db)
        let state = await UEMIntegrationService.status(settings, enterpriseID: context.principal.enterpriseID, services: services)
        let canManage = context.principal.role.canManageEnterprise
        let mapping = form?.tagMapping ?? state.tagMapping
        let kind = form?.kind ?? state.kind
        var messages: [HTML] = []
        if let ok = outcome.ok { messages.append("<p class=\"notice ok\" role=\"status\">\(ok)</p>") }
        if let error = outcome.error {
            let problems: [HTML] = (error.problems ?? []).map { problem in
                "<li><strong>\(label(problem.field.replacingOccurrences(of: "$.tagMapping.", with: "")))</strong>: \(problem.message.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? problem.message)</li>"
            }
            messages.append("<div class=\"notice error\" role=\"alert\" id=\"uem-error\"><p>\(error.message)</p>\(problems.isEmpty ? [] : ["<ul class=\"problems\">\(problems)</ul>"])</div>")
        }
        if let test = outcome.test {
            let problems: [HTML] = test.mappingProblems.map { "<li><strong>\($0.field)</strong>: \($0.message)</li>" }
            messages.append("""
            <div class="notice \(test.ok ? "ok" : "error")" role="status"><p>\(test.ok ? "The UEM answered and the mapping matches its tags." : "The UEM answered, but the mapping does not match its tags.")\
             \(test.product ?? "") \(test.productVersion ?? "") · \(test.tagCount) tags · compliance sync \(test.complianceSync ? "available" : "not available")</p>\
            \(problems.isEmpty ? [] : ["<ul class=\"problems\">\(problems)</ul>"])</div>
            """)
        }
        let sync = state.sync
        let statusCard: HTML = """
        <section class="card"><h2>Status</h2><dl class="facts"><dt>UEM</dt><dd>\(state.kind == "builtin" ? "built-in UEM of this server" : (state.baseURL ?? ""))</dd>
        <dt>Connection</dt><dd>\(ConsolePage.badge(state.connected ? "CONNECTED" : "DISCONNECTED")) \(state.product ?? "")</dd>
        <dt>Compliance sync</dt><dd>\(state.complianceSync ? "threat level reported" : "tags only")</dd>
        <dt>Last sync</dt><dd>\(ConsolePage.date(sync.lastSuccess))</dd><dt>Pending changes</dt><dd>\(sync.pendingChanges)</dd>
        <dt>Bulk calls</dt><dd>\(sync.callsMade)</dd><dt>Errors</dt><dd>\(sync.errors)\(sync.lastError.map { " · last: \($0)" } ?? "")</dd>
        <dt>Device sync</dt><dd>\(sync.lastDeviceSync.map { "\(ConsolePage.date($0.at)): \($0.seen) seen, \($0.created) new, \($0.deleted) gone" } ?? "not yet")</dd></dl>
        \(context.principal.role.canRunUEMSync ? HTML("<form method=\"post\" action=\"/console/integrations/sync\">\(ConsolePage.csrfField(context.csrf))<button type=\"submit\" class=\"secondary\">Sync now</button></form>") : "")</section>
        """
        let mappingRows: [HTML] = TagMapping().entries.map(\.field).map { field in
            let value = mapping.entries.first { $0.field == field }?.tag ?? ""
            let invalid = outcome.error?.problems?.contains { $0.field == "$.tagMapping.\(field)" } ?? false
            return """
            <tr><th scope="row"><label for="map-\(field)">\(label(field))</label></th><td><input id="map-\(field)" name="map_\(field)" value="\(value)" size="32"\
            \(invalid ? HTML(" aria-invalid=\"true\" aria-describedby=\"uem-error\"") : "")\(canManage ? "" : HTML(" readonly"))></td></tr>
            """
        }
        let connectionForm: HTML = canManage ? """
        <form method="post" action="/console/integrations/uem">\(ConsolePage.csrfField(context.csrf))
        <section class="card"><h2>Connection</h2><p><label>UEM <select name="kind"><option value="builtin"\(kind == "builtin" ? HTML(" selected") : "")>built-in UEM of this server</option>\
        <option value="workspace-one"\(kind == "workspace-one" ? HTML(" selected") : "")>Workspace ONE UEM</option></select></label></p>
        <p><label>REST API address <input name="baseURL" value="\(form?.baseURL ?? state.baseURL ?? "")" placeholder="https://as1234.awmdm.com/API" size="40"></label></p>
        <p><label>Tenant code (aw-tenant-code) <input name="tenantCode" value="\(form?.tenantCode ?? state.tenantCode ?? "")" size="40"></label></p>
        <p><label>API account <input name="username" value="\(form?.username ?? state.username ?? "")" autocomplete="off"></label>
        <label>Password <input type="password" name="password" autocomplete="new-password" placeholder="unchanged when empty"></label></p>
        <p><label>OAuth token address <input name="oauthTokenURL" value="\(form?.oauth?.tokenURL ?? "")" placeholder="https://na.uemauth.vmwservices.com/connect/token" size="40"></label>
        <label>OAuth client id <input name="oauthClientID" value="\(form?.oauth?.clientID ?? "")"></label>
        <label>OAuth client secret <input type="password" name="oauthClientSecret" autocomplete="new-password"></label></p></section>
        <h2>Tag mapping</h2><div class="table-wrap"><table><thead><tr><th scope="col">MTD state</th><th scope="col">UEM tag</th></tr></thead><tbody>\(mappingRows)</tbody></table></div>
        <p><label><span><input type="checkbox" name="createMissingTags" value="1"\((form?.createMissingTags ?? state.createMissingTags) ? HTML(" checked") : "")> Create tags the UEM lacks</span></label></p>
        <p><button type="submit" name="intent" value="save">Save</button> <button type="submit" name="intent" value="test" class="secondary">Test without saving</button></p></form>
        """ : "<div class=\"table-wrap\"><table><tbody>\(mappingRows)</tbody></table></div>"
        let codes = try await EnrollmentCodeModel.query(on: req.db).filter(\.$enterprise.$id == context.principal.enterpriseID).sort(\.$createdAt, .descending).range(0..<10).all()
        let server = req.headers.first(name: .host).map { "\(services.configuration.tlsCertificatePath == nil ? "http" : "https")://\($0)" } ?? ""
        let usable = codes.first { $0.isUsable(at: Date()) }
        let enrollment: HTML = usable.map { code in
            let hub = #"{"mtdSettings":{"isEnabled":true,"enrollmentCode":"\#(code.code)","serverURL":"\#(server)"}}"#
            let keys: [(String, String)] = [("DEVICE_UDID", "{DeviceUid}"), ("DEVICE_UUID", "{DeviceUuid}"), ("EMAIL", "{EmailAddress}"), ("MDM", "AirWatch"),
                                            ("GLOBAL_ENROLLMENT_CODE", code.code), ("SERVER_URL", server)]
            return """
            <p>Current enrollment code: <strong>\(code.code)</strong>\(code.expiresAt.map { " (expires \(ConsolePage.date($0)))" } ?? "")</p>
            <h3>Hub custom settings (embedded agent)</h3><pre>\(hub)</pre>
            <h3>Managed app config (standalone app)</h3><div class="table-wrap"><table><thead><tr><th scope="col">Key</th><th scope="col">Type</th><th scope="col">Value</th></tr></thead>\
            <tbody>\(keys.map { "<tr><td>\($0.0)</td><td>String</td><td>\($0.1)</td></tr>" as HTML })</tbody></table></div>
            """
        } ?? "<p class=\"notice error\">No usable enrollment code: create one below.</p>"
        let rotate: HTML = canManage ? """
        <form method="post" action="/console/integrations/enrollment-code">\(ConsolePage.csrfField(context.csrf))<button type="submit" class="secondary">New enrollment code</button> \
        <span class="muted">Older codes stop working for new activations; activated devices keep their credentials.</span></form>
        """ : ""
        let work = try await backgroundWork(req)
        let dns = try protectiveDNS(req, server: server)
        return ConsolePage.render(req, title: "Integrations", section: .integrations, content: """
        \(messages)<h2>UEM</h2>\(statusCard)\(connectionForm)<h2>Enrollment</h2>\(enrollment)\(rotate)<h2>Protective DNS</h2>\(dns)<h2>Background work</h2>\(work)
        """, status: status == .ok && outcome.error != nil ? .unprocessableEntity : status)
    }

    /// Copy-ready resolver settings: the built-in UEM's DNS settings profile (per device, through
    /// `{ResolverToken}`), and Apple and Android settings for other MDMs (per enterprise: they cannot
    /// render a device's token).
    static func protectiveDNS(_ req: Request, server: String) throws -> HTML {
        let dns = req.application.mtd.dns
        guard dns.current != nil else {
            return "<p class=\"muted\">The protective resolver is off. Start <code>openmtd serve</code> with <code>--dns-upstream</code> (and <code>--dns-tls-port 853</code> for Android's Private DNS).</p>"
        }
        let host = URLComponents(string: server)?.host ?? "HOST"
        let dot = dns.ports.tls
        let dotName = "{ResolverToken}.dns.\(host)"
        var settings: [String: Any] = ["DNSProtocol": "HTTPS", "ServerURL": "\(server)/dns-query/{ResolverToken}"]
        if dot != nil { settings["ServerName"] = dotName }
        let profile: [String: Any] = ["Name": "Protective DNS", "AssignedSmartGroups": ["SMART_GROUP_ID"], "DnsSettings": settings]
        let profileJSON = String(decoding: try JSONSerialization.data(withJSONObject: profile, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]),
                                 as: UTF8.self)
        let apple = """
        <dict>
          <key>PayloadType</key><string>com.apple.dnsSettings.managed</string>
          <key>PayloadVersion</key><integer>1</integer>
          <key>PayloadIdentifier</key><string>com.openmtd.dns</string>
          <key>PayloadUUID</key><string>\(UUID().uuidString)</string>
          <key>PayloadDisplayName</key><string>Protective DNS</string>
          <key>DNSSettings</key><dict>
            <key>DNSProtocol</key><string>HTTPS</string>
            <key>ServerURL</key><string>\(server)/dns-query</string>
          </dict>
        </dict>
        """
        let android: HTML = dot.map { port in
            "<p>Android (Private DNS, specified host): <code>dns.\(host)</code>\(port == 853 ? "" : " (DoT on port \(port); Android only dials 853)")</p>"
        } ?? "<p class=\"muted\">Android's Private DNS needs DNS-over-TLS: start the server with <code>--dns-tls-port 853</code>.</p>"
        return """
        <section class="card" id="dns-settings"><p>DNS-over-HTTPS: <code>\(server)/dns-query/{ResolverToken}</code>\
        \(dot.map { " · DNS-over-TLS: <code>\(dotName)</code> port \($0)" as HTML } ?? "")</p>
        <p class="muted">Each device's token comes with its activation; the certificate must cover <code>*.dns.\(host)</code> for DoT.</p>
        <h3>Built-in UEM: a DNS settings profile (per device)</h3><p class="muted">POST /API/mdm/profiles</p><pre>\(profileJSON)</pre>
        <h3>Workspace ONE and other MDMs (per enterprise)</h3>
        <p class="muted">Other MDMs cannot render a device's resolver token, so these settings protect every device and count its queries for the enterprise, without device threats.</p>
        <p>Apple (custom settings payload):</p><pre>\(apple)</pre>\(android)</section>
        """
    }

    /// The event-log consumers: where each runs, who holds its lease and how far behind it is.
    static func backgroundWork(_ req: Request) async throws -> HTML {
        let runner = req.application.mtd.consumers
        let rows: [HTML] = try await runner.status(on: req.db).map { status in
            let holder: String = status.placement == .everyReplica ? "every replica"
                : (status.leaseHolder.map { $0 + (status.holdsLease ? " (this replica)" : "") } ?? "nobody")
            let lag: String = status.lagEvents == 0 ? "none" : "\(status.lagEvents) events · \(String(format: "%.1f", status.lagSeconds)) s"
            return """
            <tr><td>\(status.name)</td><td>\(holder)</td><td>\(lag)</td><td>\(ConsolePage.date(status.lastSuccessAt))</td>\
            <td>\(status.errors)\(status.lastError.map { " · last: \($0)" } ?? "")</td></tr>
            """
        }
        return """
        <section class="card"><p class="muted">This replica: \(runner.holder)</p><div class="table-wrap"><table id="consumers"><thead><tr>\
        <th scope="col">Consumer</th><th scope="col">Lease holder</th><th scope="col">Lag</th><th scope="col">Last success here</th><th scope="col">Errors here</th>\
        </tr></thead><tbody>\(rows)</tbody></table></div></section>
        """
    }

    static func label(_ field: String) -> String {
        ["pending": "Pending", "activated": "Activated", "deactivated": "Deactivated", "unreachable": "Unreachable", "disconnected": "Disconnected",
         "threatsPresent": "Threats present", "lowRisk": "Low risk", "mediumRisk": "Medium risk", "highRisk": "High risk", "secured": "Secured"][field] ?? field
    }

    static func submit(_ req: Request) async throws -> Response {
        let context = try req.console
        guard context.principal.role.canManageEnterprise else {
            return ConsolePage.error(req, status: .forbidden, title: "Not allowed", message: "Only owners change the UEM connection.")
        }
        let fields = try req.content.decode([String: String].self)
        func value(_ key: String) -> String? { fields[key].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0.trimmingCharacters(in: .whitespaces) } }
        // The form names its mapping fields `map_<field>`.
        let mapping = TagMapping(fields: Dictionary(fields.compactMap { key, value in
            key.hasPrefix("map_") ? (String(key.dropFirst(4)), value) : nil
        }, uniquingKeysWith: { first, _ in first }))
        var oauth: UEMIntegrationRequest.OAuth?
        if let id = value("oauthClientID") {
            oauth = .init(tokenURL: value("oauthTokenURL") ?? "", clientID: id, clientSecret: value("oauthClientSecret") ?? "")
        }
        let form = UEMIntegrationRequest(kind: value("kind") ?? "builtin", baseURL: value("baseURL"), tenantCode: value("tenantCode"), username: value("username"),
                                         password: value("password"), oauth: oauth, tagMapping: mapping, createMissingTags: fields["createMissingTags"] == "1")
        let services = req.application.mtd
        do {
            let current = try await UEMIntegrationSettings.load(enterpriseID: context.principal.enterpriseID, configuration: services.configuration, on: req.db)
            let settings = try IntegrationController.settings(from: form, current: current)
            if fields["intent"] == "test" {
                let test = try await UEMIntegrationService.test(settings, principal: context.principal, app: req.application)
                return try await render(req, form: form, outcome: Outcome(test: test))
            }
            _ = try await UEMIntegrationService.save(settings, principal: context.principal, app: req.application)
        } catch let error as APIError {
            return try await render(req, form: form, outcome: Outcome(error: error))
        }
        return req.redirect(to: "/console/integrations?saved=1", redirectType: .normal)
    }

    static func rotateCode(_ req: Request) async throws -> Response {
        let context = try req.console
        let code: EnrollmentCodeModel
        do {
            code = try await req.application.mtd.enrollmentCodes.rotate(expiresAt: nil, principal: context.principal, on: req.db)
        } catch let error as APIError where error.status == .forbidden {
            return ConsolePage.error(req, status: .forbidden, title: "Not allowed", message: "Only owners create enrollment codes.")
        }
        return try await render(req, form: nil, outcome: Outcome(ok: "New enrollment code \(code.code); update the Hub custom settings and app configuration in the UEM."))
    }

    static func syncNow(_ req: Request) async throws -> Response {
        do {
            _ = try await UEMIntegrationService.syncNow(principal: try req.console.principal, app: req.application)
        } catch let error as APIError where error.status == .forbidden {
            return ConsolePage.error(req, status: .forbidden, title: "Not allowed", message: error.message.prefix(1).uppercased() + error.message.dropFirst() + ".")
        } catch let error as APIError {
            return try await render(req, form: nil, outcome: Outcome(error: error))
        }
        return try await render(req, form: nil, outcome: Outcome(ok: "Sync done."))
    }
}
