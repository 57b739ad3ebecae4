import Foundation
import MTDAutomations
import MTDCore
import Testing

/// The SMTP reply parser, message rendering and the e-mail document, without a network.
struct MailTests {
    @Test func repliesAreAssembledFromAnyChunking() throws {
        let bytes = Array("220 relay ESMTP\r\n250-relay.example.com\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n354 go ahead\n".utf8)
        for size in [1, 2, 3, 7, bytes.count] {
            var parser = SMTPReplyParser()
            var replies: [SMTPReply] = []
            var start = 0
            while start < bytes.count {
                replies += try parser.feed(bytes[start..<min(bytes.count, start + size)])
                start += size
            }
            #expect(replies.map(\.code) == [220, 250, 354], "chunks of \(size)")
            #expect(replies[1].lines == ["relay.example.com", "STARTTLS", "AUTH PLAIN LOGIN"])
            #expect(parser.isIdle)
        }
    }

    @Test(arguments: ["HELLO\r\n", "25\r\n", "250x\r\n", "650 no\r\n", "250-a\r\n354 b\r\n"])
    func whatIsNotSMTPIsRefused(_ text: String) {
        var parser = SMTPReplyParser()
        #expect(throws: SMTPProtocolError.self) { _ = try parser.feed(Array(text.utf8)) }
    }

    @Test func overlongLinesAndRepliesAreRefusedNotBuffered() {
        var parser = SMTPReplyParser()
        #expect(throws: SMTPProtocolError.self) { _ = try parser.feed(Array(repeating: UInt8(ascii: "2"), count: SMTPReplyParser.maxLineBytes + 1)) }
        var many = SMTPReplyParser()
        let lines = Array(String(repeating: "250-x\r\n", count: SMTPReplyParser.maxLines + 1).utf8)
        #expect(throws: SMTPProtocolError.self) { _ = try many.feed(lines) }
    }

    @Test func aRenderedMessageKeepsItsHeadersWhateverTheSubjectSays() throws {
        let message = MailMessage(from: "mtd@example.com", to: ["a@example.com", "b@example.com"],
                                  subject: "Évaluation\r\nBcc: attacker@example.com", body: ".hidden\n..two\nend", idempotencyKey: "r:1:0")
        let rendered = message.rendered(at: Date(timeIntervalSince1970: 1_800_000_000), domain: "example.com")
        let header = try #require(rendered.components(separatedBy: "\r\n\r\n").first)
        #expect(!header.contains("\r\nBcc:"), "a subject cannot add a header")
        #expect(header.contains("Subject: =?UTF-8?B?"))
        #expect(header.contains("Date: Fri, 15 Jan 2027 08:00:00 +0000"))
        #expect(header.contains("Message-ID: <openmtd.r.1.0@example.com>"))
        let body = try #require(rendered.components(separatedBy: "\r\n\r\n").last)
        let decoded = try #require(Data(base64Encoded: body.replacingOccurrences(of: "\r\n", with: "")))
        #expect(String(decoding: decoded, as: UTF8.self) == ".hidden\r\n..two\r\nend")
        let stuffed = MailMessage.dotStuffed("a\r\n.b\r\n..c\r\n")
        #expect(stuffed == "a\r\n..b\r\n...c\r\n.\r\n")
    }

    @Test(arguments: [("soc@example.com", true), ("a.b+c@sub.example.co.uk", true), ("soc@", false), ("@example.com", false),
                      ("two@@example.com", false), ("a b@example.com", false), ("a@example.com\r\nRCPT TO:<x@y>", false),
                      ("<a@example.com>", false), ("a@example..com", false)])
    func addressesThatCouldInjectAreRefused(_ text: String, _ valid: Bool) {
        #expect(MailMessage.isAddress(text) == valid)
    }

    @Test func emailActionsAreValidatedAtTheField() throws {
        func problem(_ json: String) -> String? {
            let document = """
            {"name":"r","trigger":{"type":"THREAT"},"actions":[\(json)]}
            """
            do {
                _ = try AutomationRule.decode(Data(document.utf8))
                return nil
            } catch {
                return error.path
            }
        }
        #expect(problem(#"{"type":"email","to":"deviceUser"}"#) == nil)
        #expect(problem(#"{"type":"email","to":"addresses","addresses":["soc@example.com"]}"#) == nil)
        #expect(problem(#"{"type":"email","to":"addresses"}"#) == "$.actions[0].addresses")
        #expect(problem(#"{"type":"email","to":"admins","addresses":["soc@example.com"]}"#) == "$.actions[0].addresses")
        #expect(problem(#"{"type":"email","to":"addresses","addresses":["soc@example.com","x"]}"#) == "$.actions[0].addresses[1]")
        #expect(problem(#"{"type":"email","to":"users"}"#) == "$.actions[0].to")
        #expect(problem(#"{"type":"email","to":"admins","subject":"x"}"#) == "$.actions[0].subject")
    }

    @Test func relaySettingsNeverSendAPasswordInTheClear() {
        var settings = SMTPSettings(host: "smtp.example.com", port: 587, security: .starttls, username: "mtd", password: "secret", from: "mtd@example.com")
        #expect((try? settings.validate()) != nil)
        settings.security = .none
        #expect(throws: DocumentError(path: "$.security", message: "a password is never sent unencrypted: use STARTTLS or TLS")) { try settings.validate() }
        settings = SMTPSettings(host: "smtp.example.com", port: 0, security: .tls, from: "mtd@example.com")
        #expect(throws: DocumentError.self) { try settings.validate() }
    }

    @Test func stalkerwareAdviceTellsTheUserNotToRemoveItAlone() {
        let advice = RemediationTemplates.template(for: .surveillanceware)
        #expect(advice.steps.first?.contains("Do not remove") == true)
        #expect(RemediationTemplates.template(for: .outOfDateOS).steps.contains { $0.contains("Software Update") })
        #expect(!RemediationTemplates.template(for: nil).steps.isEmpty)
    }

    @Test func everyTemplateIsAValidRule() throws {
        #expect(RuleTemplates.all.count == 6)
        for template in RuleTemplates.all {
            let encoded = try JSONEncoder().encode(template.rule)
            let decoded = try AutomationRule.decode(encoded)
            #expect(decoded == template.rule, "\(template.id)")
        }
        #expect(RuleTemplates.all.first { $0.id == "wipe-unresolved-high" }?.rule.actions.contains(where: \.isDestructive) == true)
    }

    @Test func digestsFallDueOncePerDayAtTheirTime() throws {
        let morning = try #require(ISO8601DateFormatter().date(from: "2026-12-07T07:59:59Z"))
        let due = Automations.lastDigestTime(minutesAfterMidnight: 8 * 60, before: morning)
        #expect(due == ISO8601DateFormatter().date(from: "2026-12-06T08:00:00Z"))
        #expect(Automations.lastDigestTime(minutesAfterMidnight: 8 * 60, before: morning.addingTimeInterval(1)) == morning.addingTimeInterval(1))
        #expect(Automations.lastDigestTime(minutesAfterMidnight: 0, before: Date(timeIntervalSince1970: 1e19)) == nil, "a clock beyond Int is refused, not trapped on")
        #expect(Automations.lastDigestTime(minutesAfterMidnight: 1_440, before: morning) == nil)
    }
}
