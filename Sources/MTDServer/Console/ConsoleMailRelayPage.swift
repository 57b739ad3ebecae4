import Foundation
import MTDAutomations
import MTDCore
import Vapor

/// `/console/automations/mail-relay`: the SMTP relay e-mail actions go through, the console's
/// face of `/api/v1/settings/smtp`. Owners save, remove and test it; every admin sees it, never
/// its password (an empty password field keeps the stored one, as the API does).
enum ConsoleMailRelayPage {
    /// What the form sent, kept to fill the form again after an error.
    struct Form {
        var host = "", port = "587", security = SMTPSettings.Security.starttls.rawValue, username = "", from = "", timeout = "30", certificates = ""
    }

    static func show(_ req: Request) async throws -> Response {
        try await render(req, form: nil, notice: nil)
    }

    static func render(_ req: Request, form: Form?, notice: HTML?, invalidField: String? = nil, status: HTTPResponseStatus = .ok) async throws -> Response {
        let context = try req.console
        let stored = try await req.application.mtd.automations.smtpSettings(enterpriseID: context.principal.enterpriseID, on: req.db)
        let canManage = context.principal.role.canManageEnterprise
        let shown = form ?? stored.map { stored in
            Form(host: stored.settings.host, port: String(stored.settings.port), security: stored.settings.security.rawValue,
                 username: stored.settings.username ?? "", from: stored.settings.from, timeout: String(Int(stored.settings.timeoutSeconds)),
                 certificates: stored.settings.trustedCertificatesPEM ?? "")
        } ?? Form()
        let state: HTML = stored.map { stored in
            "<p>\(ConsolePage.badge("CONFIGURED")) Saved \(ConsolePage.date(stored.updatedAt)) by \(stored.updatedBy).</p>"
        } ?? "<p>\(ConsolePage.badge("NOT_CONFIGURED")) E-mail actions fail until a relay is saved here.</p>"
        func input(_ name: String, _ label: String, _ value: String, type: String = "text", extra: HTML = "") -> HTML {
            let invalid: HTML = invalidField == name ? " aria-invalid=\"true\" aria-describedby=\"relay-error\"" : ""
            return "<p><label>\(label) <input type=\"\(type)\" name=\"\(name)\" value=\"\(value)\"\(invalid)\(extra)\(canManage ? "" : HTML(" readonly"))></label></p>"
        }
        let securityOptions: [HTML] = [(SMTPSettings.Security.starttls, "STARTTLS (port 587)"), (.tls, "TLS from the start (port 465)"), (.none, "none (a relay on this host or network, no password)")]
            .map { option, label in "<option value=\"\(option.rawValue)\"\(shown.security == option.rawValue ? HTML(" selected") : "")>\(label)</option>" }
        let passwordNote = stored?.settings.password != nil ? "a password is stored; empty keeps it" : "none stored"
        let settingsForm: HTML = """
        <form method="post" action="/console/automations/mail-relay">\(ConsolePage.csrfField(context.csrf))<section class="card"><h2>Relay</h2>
        \(input("host", "Host", shown.host, extra: " required maxlength=\"253\" placeholder=\"smtp.example.com\""))\
        \(input("port", "Port", shown.port, type: "number", extra: " required min=\"1\" max=\"65535\""))
        <p><label>Security <select name="security"\(invalidField == "security" ? HTML(" aria-invalid=\"true\" aria-describedby=\"relay-error\"") : "")\(canManage ? "" : HTML(" disabled"))>\(securityOptions)</select></label></p>
        \(input("username", "Username", shown.username, extra: " autocomplete=\"off\""))\
        \(input("password", "Password (\(passwordNote))", "", type: "password", extra: " autocomplete=\"new-password\""))\
        \(input("from", "Sender address", shown.from, type: "email", extra: " required placeholder=\"mtd@example.com\""))\
        \(input("timeoutSeconds", "Timeout (seconds)", shown.timeout, type: "number", extra: " min=\"1\" max=\"60\""))
        <p><label for="trustedCertificatesPEM">Extra trusted certificates (PEM, for a relay with a private CA)</label></p>
        <p><textarea id="trustedCertificatesPEM" name="trustedCertificatesPEM" rows="4" cols="64"\
        \(invalidField == "trustedCertificatesPEM" ? HTML(" aria-invalid=\"true\" aria-describedby=\"relay-error\"") : "")\(canManage ? "" : HTML(" readonly"))>\(shown.certificates)</textarea></p>
        \(canManage ? HTML("<p><button type=\"submit\">Save relay</button></p>") : "")</section></form>
        """
        let actions: HTML = canManage && stored != nil ? """
        <form method="post" action="/console/automations/mail-relay/test">\(ConsolePage.csrfField(context.csrf))<section class="card"><h2>Test</h2>
        <p><label>Send a test message to <input type="email" name="to" required placeholder="you@example.com"></label> <button type="submit">Send test e-mail</button></p></section></form>
        <form method="post" action="/console/automations/mail-relay/delete">\(ConsolePage.csrfField(context.csrf))\
        <button type="submit" class="secondary">Remove relay</button> <span class="muted">E-mail actions then fail and are retried, then dead-lettered.</span></form>
        """ : (canManage ? "" : "<p class=\"muted\">Only owners change the relay.</p>")
        return ConsolePage.render(req, title: "E-mail relay", section: .automations, content: """
        \(notice ?? "")<p><a href="/console/automations">Automations</a> send their e-mail actions through this SMTP relay.</p>\(state)\(settingsForm)\(actions)
        """, status: status)
    }

    static func save(_ req: Request) async throws -> Response {
        let context = try req.console
        guard context.principal.role.canManageEnterprise else {
            return ConsolePage.error(req, status: .forbidden, title: "Not allowed", message: "Only owners change the e-mail relay.")
        }
        let fields = try req.content.decode([String: String].self)
        func value(_ key: String) -> String { (fields[key] ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
        let form = Form(host: value("host"), port: value("port"), security: value("security"), username: value("username"), from: value("from"),
                        timeout: value("timeoutSeconds"), certificates: value("trustedCertificatesPEM"))
        func refuse(_ field: String, _ message: String) async throws -> Response {
            try await render(req, form: form, notice: "<p class=\"notice error\" role=\"alert\" id=\"relay-error\"><strong>\(field)</strong>: \(message)</p>",
                             invalidField: field, status: .unprocessableEntity)
        }
        // Numbers are parsed with bounds here so a form value never reaches arithmetic unchecked.
        guard let port = Int(form.port), (1...65_535).contains(port) else { return try await refuse("port", "must be a whole number from 1 to 65535") }
        let timeout = form.timeout.isEmpty ? 30 : Double(form.timeout)
        guard let timeout, timeout.isFinite, (1...60).contains(timeout) else { return try await refuse("timeoutSeconds", "must be from 1 to 60 seconds") }
        guard let security = SMTPSettings.Security(rawValue: form.security) else { return try await refuse("security", "choose STARTTLS, TLS or none") }
        let password = value("password")
        let proposed = SMTPSettings(host: form.host, port: port, security: security, username: form.username.isEmpty ? nil : form.username,
                                    password: password.isEmpty ? nil : password, from: form.from,
                                    trustedCertificatesPEM: form.certificates.isEmpty ? nil : form.certificates, timeoutSeconds: timeout)
        do {
            _ = try await req.application.mtd.automations.saveSMTPSettings(
                proposed, enterpriseID: context.principal.enterpriseID, actor: context.principal.actor, on: req.db, now: Date())
        } catch let error as SMTPSettingsError {
            switch error {
            case .invalid(let problem): return try await refuse(String(problem.path.dropFirst(2)), problem.message)
            case .egress(let refused): return try await refuse("host", refused.description)
            case .notConfigured, .delivery: throw error
            }
        }
        return try await render(req, form: nil, notice: "<p class=\"notice ok\" role=\"status\">Relay saved. Send a test message to check it.</p>")
    }

    static func test(_ req: Request) async throws -> Response {
        let context = try req.console
        guard context.principal.role.canManageEnterprise else {
            return ConsolePage.error(req, status: .forbidden, title: "Not allowed", message: "Only owners send test e-mail.")
        }
        let to = (try req.content.decode([String: String].self)["to"] ?? "").trimmingCharacters(in: .whitespaces)
        guard MailMessage.isAddress(to) else {
            return try await render(req, form: nil, notice: "<p class=\"notice error\" role=\"alert\"><strong>to</strong>: expected a bare e-mail address such as you@example.com</p>",
                                    status: .unprocessableEntity)
        }
        do {
            try await req.application.mtd.automations.sendTestMail(to: to, enterpriseID: context.principal.enterpriseID, on: req.db, now: Date())
        } catch let error as SMTPSettingsError {
            let message: String
            switch error {
            case .notConfigured: message = "No relay is saved yet: save one above first."
            case .delivery(let failure): message = "The relay refused the message: \(failure.message)"
            case .egress(let refused): message = refused.description
            case .invalid(let problem): message = problem.message
            }
            return try await render(req, form: nil, notice: "<p class=\"notice error\" role=\"alert\" id=\"relay-test\">\(message)</p>", status: .badGateway)
        }
        return try await render(req, form: nil, notice: "<p class=\"notice ok\" role=\"status\" id=\"relay-test\">Test message accepted by the relay for \(to).</p>")
    }

    static func delete(_ req: Request) async throws -> Response {
        let context = try req.console
        guard context.principal.role.canManageEnterprise else {
            return ConsolePage.error(req, status: .forbidden, title: "Not allowed", message: "Only owners remove the e-mail relay.")
        }
        let removed = try await req.application.mtd.automations.deleteSMTPSettings(
            enterpriseID: context.principal.enterpriseID, actor: context.principal.actor, on: req.db, now: Date())
        return try await render(req, form: nil, notice: removed ? "<p class=\"notice ok\" role=\"status\">Relay removed.</p>" : "<p class=\"notice\">No relay was saved.</p>")
    }
}
