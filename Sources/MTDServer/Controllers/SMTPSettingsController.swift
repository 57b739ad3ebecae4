import Foundation
import MTDAutomations
import MTDCore
import Vapor

/// `/api/v1/settings/smtp`: the relay e-mail actions go through. Owners change it and send a
/// test message; every admin sees it, never its password.
enum SMTPSettingsController {
    static func get(_ req: Request) async throws -> SMTPSettingsView {
        let principal = try req.admin
        let stored = try await req.application.mtd.automations.smtpSettings(enterpriseID: principal.enterpriseID, on: req.db)
        return SMTPSettingsView(stored)
    }

    static func put(_ req: Request) async throws -> SMTPSettingsView {
        let principal = try req.admin
        try principal.require(\.canManageEnterprise, "change the e-mail relay")
        guard let body = req.body.data, body.readableBytes > 0 else {
            throw APIError.badRequest("send the relay as a JSON object: host, port, security, username, password, from", field: "$")
        }
        var proposed: SMTPSettings
        do {
            proposed = try JSONDecoder().decode(SMTPSettings.self, from: Data(body.readableBytesView))
        } catch {
            throw APIError.invalidDocument(DocumentError(decoding: error))
        }
        // A document read back from GET and sent again shows the password as "(hidden)": keep the stored one.
        if proposed.password == AutomationSummary.hiddenSecret { proposed.password = nil }
        let now = Date()
        let saved = try await translated {
            try await req.application.mtd.automations.saveSMTPSettings(proposed, enterpriseID: principal.enterpriseID, actor: principal.actor, on: req.db, now: now)
        }
        return SMTPSettingsView((saved, now, principal.actor.guid ?? ""))
    }

    static func delete(_ req: Request) async throws -> HTTPStatus {
        let principal = try req.admin
        try principal.require(\.canManageEnterprise, "remove the e-mail relay")
        guard try await req.application.mtd.automations.deleteSMTPSettings(enterpriseID: principal.enterpriseID, actor: principal.actor, on: req.db, now: Date())
        else { throw APIError.notFound("SMTP settings") }
        return .noContent
    }

    struct TestRequest: Content {
        var to: String
    }

    /// Sends one message through the saved relay: 200 when the relay accepted it, else 502 with its answer.
    static func test(_ req: Request) async throws -> SMTPTestResult {
        let principal = try req.admin
        try principal.require(\.canManageEnterprise, "send a test e-mail")
        let to = try req.content.decode(TestRequest.self).to
        guard MailMessage.isAddress(to) else { throw APIError.badRequest("expected a bare e-mail address such as you@example.com", field: "to") }
        try await translated {
            try await req.application.mtd.automations.sendTestMail(to: to, enterpriseID: principal.enterpriseID, on: req.db, now: Date())
        }
        return SMTPTestResult(sent: true, to: to)
    }

    static func translated<T>(_ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch let error as SMTPSettingsError {
            switch error {
            case .invalid(let problem): throw APIError.invalidDocument(problem)
            case .egress(let refused): throw APIError.unprocessable("egress_refused", refused.description, field: "$.host")
            case .notConfigured: throw APIError.unprocessable("smtp_not_configured", "no SMTP relay is saved yet: PUT /api/v1/settings/smtp first")
            case .delivery(let failure):
                throw APIError(status: .badGateway, code: "smtp_failed", message: failure.message)
            }
        }
    }
}
