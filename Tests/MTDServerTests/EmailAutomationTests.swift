import FluentKit
import Foundation
import MTDAutomations
@testable import MTDServer
import TestSupport
import Testing

/// E-mail actions and the relay settings, against a real SMTP server (aiosmtpd) with STARTTLS and
/// AUTH, read back by Python's e-mail parser.
@Suite(.serialized) struct EmailAutomationTests {
    @Test func theRelayIsValidatedShownWithoutItsPasswordAndTested() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        try await withServer(.sqlite) { server in
            let owner = try await server.login()
            var reply = try await server.send(.GET, "/api/v1/settings/smtp", token: owner)
            #expect(reply.json["configured"] as? Bool == false)
            reply = try await server.send(.POST, "/api/v1/settings/smtp/test", token: owner, json: ["to": "soc@example.com"])
            #expect(reply.status == 422, "\(reply.text)")
            #expect(reply.errorCode == "smtp_not_configured")

            for (change, field) in [(["port": 70_000], "$.port"), (["security": "NONE"], "$.security"), (["from": "OpenMTD <mtd@example.com>"], "$.from"),
                                    (["timeoutSeconds": 0], "$.timeoutSeconds"), (["hostname": "x"], "$.hostname")] as [([String: Any], String)] {
                var settings = sink.settings()
                for (key, value) in change { settings[key] = value }
                reply = try await server.send(.PUT, "/api/v1/settings/smtp", token: owner, json: settings)
                #expect(reply.status == 400, "\(change): \(reply.text)")
                #expect(reply.errorField == field, "\(reply.text)")
            }
            var metadata = sink.settings()
            metadata["host"] = "169.254.169.254"
            reply = try await server.send(.PUT, "/api/v1/settings/smtp", token: owner, json: metadata)
            #expect(reply.status == 422, "the egress policy guards the relay too: \(reply.text)")

            reply = try await server.send(.PUT, "/api/v1/settings/smtp", token: owner, json: sink.settings())
            #expect(reply.status == 200, "\(reply.text)")
            let shown = try #require(reply.json["settings"] as? [String: Any])
            #expect(shown["password"] as? String == "(hidden)")
            #expect(!reply.text.contains(SMTPSink.password))

            reply = try await server.send(.POST, "/api/v1/settings/smtp/test", token: owner, json: ["to": "soc@example.com"])
            #expect(reply.status == 200, "\(reply.text)")
            let test = try #require(sink.messages.first)
            #expect(test.to == ["soc@example.com"])
            #expect(test.from == "mtd@example.com")
            #expect(test.tls, "STARTTLS was used")
            #expect(test.authenticated)
            #expect(test.subject == "OpenMTD test message")

            // Editing the port without the password keeps the stored one.
            var edited = sink.settings()
            edited.removeValue(forKey: "password")
            reply = try await server.send(.PUT, "/api/v1/settings/smtp", token: owner, json: edited)
            #expect(reply.status == 200, "\(reply.text)")
            reply = try await server.send(.POST, "/api/v1/settings/smtp/test", token: owner, json: ["to": "soc@example.com"])
            #expect(reply.status == 200, "\(reply.text)")
            #expect(sink.messages.count == 2)

            // A wrong password: the relay's refusal, in words.
            reply = try await server.send(.PUT, "/api/v1/settings/smtp", token: owner, json: sink.settings(password: "not-the-password"))
            #expect(reply.status == 200)
            reply = try await server.send(.POST, "/api/v1/settings/smtp/test", token: owner, json: ["to": "soc@example.com"])
            #expect(reply.status == 502, "\(reply.text)")
            #expect(reply.errorCode == "smtp_failed")
            #expect(reply.text.contains("535"), "\(reply.text)")

            let audit = try await server.send(.GET, "/api/v1/audit", token: owner)
            #expect(audit.text.contains("SMTP_SETTINGS"))
            #expect(!audit.text.contains(SMTPSink.password))
            reply = try await server.send(.DELETE, "/api/v1/settings/smtp", token: owner)
            #expect(reply.status == 204)
        }
    }

    @Test func theConsoleSavesTestsAndRemovesTheRelayAndAReadBackDocumentKeepsThePassword() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        try await withServer(.sqlite) { server in
            var browser = ConsoleHTTPTests.Browser(server: server)
            _ = try await browser.login("owner@example.com", server.ownerPassword)
            var page = try await browser.send(.GET, "/console/automations/mail-relay")
            #expect(page.status == 200)
            #expect(page.text.contains("not configured"))
            var csrf = ConsoleHTTPTests.Browser.field("_csrf", in: page.text) ?? ""
            var form: [String: String] = ["_csrf": csrf, "host": "localhost", "port": String(sink.port), "security": "STARTTLS", "username": SMTPSink.user,
                                          "password": SMTPSink.password, "from": "mtd@example.com", "timeoutSeconds": "10",
                                          "trustedCertificatesPEM": sink.certificatePEM]

            // Bad values are named at their field, and what was typed stays in the form.
            for (field, bad, named) in [("port", "99999999999999999999", "port"), ("port", "70000", "port"), ("timeoutSeconds", "0", "timeoutSeconds"),
                                        ("from", "OpenMTD <mtd@example.com>", "from"), ("security", "SSL", "security")] {
                var broken = form
                broken[field] = bad
                page = try await browser.send(.POST, "/console/automations/mail-relay", form: broken)
                #expect(page.status == 422, "\(field)=\(bad): \(page.status)")
                #expect(page.text.contains("<strong>\(named)</strong>"), "\(page.text)")
                #expect(page.text.contains("value=\"localhost\""))
            }
            page = try await browser.send(.POST, "/console/automations/mail-relay", form: form)
            #expect(page.status == 200)
            #expect(page.text.contains("Relay saved"))
            #expect(!page.text.contains(SMTPSink.password))

            // The test button sends through the saved relay; an empty password keeps the stored one.
            csrf = ConsoleHTTPTests.Browser.field("_csrf", in: page.text) ?? csrf
            page = try await browser.send(.POST, "/console/automations/mail-relay/test", form: ["_csrf": csrf, "to": "soc@example.com"])
            #expect(page.status == 200, "\(page.text)")
            #expect(page.text.contains("Test message accepted"))
            form["password"] = ""
            form["_csrf"] = csrf
            page = try await browser.send(.POST, "/console/automations/mail-relay", form: form)
            #expect(page.status == 200)
            page = try await browser.send(.POST, "/console/automations/mail-relay/test", form: ["_csrf": csrf, "to": "soc@example.com"])
            #expect(page.status == 200, "\(page.text)")
            #expect(sink.messages.count == 2)
            #expect(sink.messages.allSatisfy { $0.authenticated && $0.tls })

            // The API's document, read and sent back with its "(hidden)" password, still authenticates.
            let owner = try await server.login()
            let read = try await server.send(.GET, "/api/v1/settings/smtp", token: owner)
            let document = try #require(read.json["settings"] as? [String: Any])
            #expect(document["password"] as? String == "(hidden)")
            let put = try await server.send(.PUT, "/api/v1/settings/smtp", token: owner, json: document)
            #expect(put.status == 200, "\(put.text)")
            let test = try await server.send(.POST, "/api/v1/settings/smtp/test", token: owner, json: ["to": "soc@example.com"])
            #expect(test.status == 200, "the stored password was kept: \(test.text)")
            #expect(sink.messages.count == 3)

            // A read-only admin sees the relay without its controls, and cannot post.
            _ = try await server.send(.POST, "/api/v1/admins", token: owner, json: ["email": "viewer@example.com", "password": "viewer-password-123", "role": "read-only"])
            var viewer = ConsoleHTTPTests.Browser(server: server)
            _ = try await viewer.login("viewer@example.com", "viewer-password-123")
            let seen = try await viewer.send(.GET, "/console/automations/mail-relay")
            #expect(seen.text.contains("value=\"localhost\""))
            #expect(!seen.text.contains("Save relay") && !seen.text.contains("Send test e-mail"))
            let refused = try await viewer.send(.POST, "/console/automations/mail-relay/test",
                                                form: ["_csrf": ConsoleHTTPTests.Browser.field("_csrf", in: seen.text) ?? "", "to": "soc@example.com"])
            #expect(refused.status == 403)
            #expect(sink.messages.count == 3)

            page = try await browser.send(.POST, "/console/automations/mail-relay/delete", form: ["_csrf": csrf])
            #expect(page.text.contains("Relay removed"))
            #expect(try await server.send(.GET, "/api/v1/settings/smtp", token: owner).json["configured"] as? Bool == false)
        }
    }

    @Test(arguments: TestDatabase.available)
    func aStalkerwareThreatEmailsTheUserSafeStepsAndTheAdminsTheFacts(_ database: TestDatabase) async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        try await withServer(database) { server in
            let owner = try await server.login()
            var reply = try await server.send(.PUT, "/api/v1/settings/smtp", token: owner, json: sink.settings())
            #expect(reply.status == 200, "\(reply.text)")
            reply = try await server.send(.POST, "/api/v1/automations", token: owner, json: [
                "name": "Tell the user and the team about stalkerware",
                "trigger": ["type": "THREAT", "change": "CREATED", "classifications": ["SURVEILLANCEWARE"]],
                "actions": [
                    ["type": "email", "to": "deviceUser", "note": "Questions? Call the help desk on 555 0100."],
                    ["type": "email", "to": "admins"],
                ],
            ])
            #expect(reply.status == 201, "\(reply.text)")
            let agent = try await server.activate(udid: "mail-phone")
            try await AutomationTests.stalkerware(server, agent)
            let delivered = try await Wait.until(within: 20) { sink.messages.count >= 2 }
            let states = try await AutomationTests.executions(server, token: owner)
            #expect(delivered != nil, "\(states)")
            let user = try #require(sink.messages.first { $0.to == ["mail-phone@example.com"] })
            #expect(user.subject.hasPrefix("Action needed on your phone"), "\(user.subject)")
            #expect(user.text.contains("Do not remove the app yet"), "\(user.text)")
            #expect(user.text.contains("555 0100"))
            #expect(user.headers["X-OpenMTD-Idempotency-Key"]?.hasSuffix(":0") == true, "\(user.headers)")
            #expect(user.headers["Auto-Submitted"] == "auto-generated")
            let admins = try #require(sink.messages.first { $0.to == ["owner@example.com"] })
            #expect(admins.subject.hasPrefix("[OpenMTD] HIGH threat SURVEILLANCEWARE"), "\(admins.subject)")
            #expect(admins.text.contains("Tell the user and the team about stalkerware"))
            #expect(user.headers["Message-ID"] != admins.headers["Message-ID"])

            // The same events again: no second e-mail.
            try await Task.sleep(nanoseconds: 1_500_000_000)
            #expect(sink.messages.count == 2)
        }
    }

    @Test func aRelayThatAsksToTryLaterGetsTheMessageOnTheRetry() async throws {
        let sink = try await SMTPSink.start(failFirst: 1)
        defer { sink.stop() }
        try await withServer(.sqlite, adjust: { $0.automations.firstRetrySeconds = 0.3 }) { server in
            let owner = try await server.login()
            var reply = try await server.send(.PUT, "/api/v1/settings/smtp", token: owner, json: sink.settings())
            #expect(reply.status == 200, "\(reply.text)")
            reply = try await server.send(.POST, "/api/v1/automations", token: owner, json: [
                "name": "SOC mailbox", "trigger": ["type": "THREAT", "change": "CREATED"],
                "actions": [["type": "email", "to": "addresses", "addresses": ["soc@example.com"]]],
            ])
            #expect(reply.status == 201, "\(reply.text)")
            try await AutomationTests.stalkerware(server, try await server.activate(udid: "retry-mail-phone"))
            #expect(try await Wait.until(within: 20) { !sink.messages.isEmpty } != nil)
            // The relay has the message a moment before the execution is recorded as succeeded.
            var executions: [[String: Any]] = []
            _ = try await Wait.until(within: 10) {
                executions = try await AutomationTests.executions(server, token: owner, query: "?status=SUCCEEDED")
                return !executions.isEmpty
            }
            #expect(executions.first?["attempts"] as? Int == 2, "\(executions)")
            #expect(sink.messages.count == 1)
        }
    }

    /// A digest rule holds its events and sends one e-mail for the day at its time; the same day is
    /// never sent twice. The digest's time is put two hours ahead of the clock, so the live consumer
    /// (which ticks with the real time) does not reach it during the test; the test then runs the
    /// schedule as the clock would two hours later.
    @Test func aDailyDigestSendsOneMessageWithTheDaysEvents() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        try await withServer(.sqlite) { server in
            let owner = try await server.login()
            var reply = try await server.send(.PUT, "/api/v1/settings/smtp", token: owner, json: sink.settings())
            #expect(reply.status == 200, "\(reply.text)")
            let later = Date().addingTimeInterval(2 * 3_600)
            let minutes = (Int(later.timeIntervalSince1970) % 86_400) / 60
            let at = String(format: "%02d:%02d", minutes / 60, minutes % 60)
            reply = try await server.send(.POST, "/api/v1/automations", token: owner, json: [
                "name": "Digest", "trigger": ["type": "THREAT", "change": "CREATED", "minimumSeverity": "MEDIUM"],
                "actions": [["type": "email", "to": "addresses", "addresses": ["soc@example.com"]]], "digest": ["at": at],
            ])
            #expect(reply.status == 201, "\(reply.text)")
            for udid in ["digest-1", "digest-2"] { try await AutomationTests.stalkerware(server, try await server.activate(udid: udid)) }
            let held = try await Wait.until(within: 10) {
                try await AutomationTriggerModel.query(on: server.app.db).filter(\.$reason == "held for the daily digest").count() >= 2
            }
            #expect(held != nil)
            #expect(sink.messages.isEmpty, "nothing is sent per event")

            let then = later.addingTimeInterval(60)
            for _ in 0..<2 {
                try await server.app.mtd.automations.scheduleDigests(on: server.app.db, now: then)
                _ = try await server.app.mtd.automations.runDue(on: server.app.db, now: { then })
            }
            #expect(try await Wait.until(within: 10) { !sink.messages.isEmpty } != nil)
            try await Task.sleep(nanoseconds: 500_000_000)
            #expect(sink.messages.count == 1, "one digest per day")
            let digest = try #require(sink.messages.first)
            #expect(digest.subject.hasPrefix("[OpenMTD] Daily digest: 2 events"), "\(digest.subject)")
            #expect(digest.text.contains("digest-1@example.com") && digest.text.contains("digest-2@example.com"), "\(digest.text)")
        }
    }
}
