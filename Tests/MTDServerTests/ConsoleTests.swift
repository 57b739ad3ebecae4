import Foundation
import MTDCore
@testable import MTDServer
import MTDStore
import NIOHTTP1
import Testing

struct ConsoleViewTests {
    @Test func htmlEscapesEverythingButHTML() {
        let name = "<script>alert('x')</script> & \"friends\""
        let fragment: HTML = "<p title=\"\(name)\">\(name)</p>"
        #expect(fragment.text == "<p title=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;friends&quot;\">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;friends&quot;</p>")
        let inner: HTML = "<b>\(1)</b>"
        #expect(("<i>\(inner)</i>" as HTML).text == "<i><b>1</b></i>")
    }

    @Test func donutSegmentsAreSharesOfTheCircle() {
        let svg = SVGChart.donut([.init(label: "Secure", value: 3, tone: "c-secure"), .init(label: "High", value: 1, tone: "c-high"),
                                  .init(label: "Low", value: 0, tone: "c-low")], title: "Security status").text
        let circumference = 2 * Double.pi * 60
        #expect(svg.contains("stroke-dasharray=\"\(SVGChart.fmt(circumference * 0.75)) \(SVGChart.fmt(circumference * 0.25))\""))
        #expect(svg.contains("stroke-dashoffset=\"\(SVGChart.fmt(-circumference * 0.75))\""), "the second segment starts where the first ends")
        #expect(!svg.contains("c-low"), "empty segments draw nothing")
        #expect(svg.contains("aria-label=\"Security status: 4 in total\""))
        #expect(svg.contains("<title>High: 1</title>"))
        #expect(SVGChart.donut([], title: "Nothing").text.contains("c-empty"))
    }

    @Test func lineChartScalesToTheLargestValue() {
        let svg = SVGChart.lines([.init(label: "Opened", tone: "c-high", values: [0, 5, 10])], days: ["2026-11-25", "2026-11-26", "2026-11-27"],
                                 title: "Threats", width: 236, height: 134).text
        // Plot: x from 36 to 226 (190 wide), y from 10 to 110 (100 high): 0 → 110, 5 → 60, 10 → 10.
        #expect(svg.contains("points=\"36,110 131,60 226,10\""))
        #expect(svg.contains(">11-27</text>"))
    }

    @Test func dashboardCountsPerDayAndLatency() {
        let today = Timestamp.day("2026-11-27") ?? 0
        let dates = ["2026-11-27T08:00:00Z", "2026-11-27T09:00:00Z", "2026-11-25T10:00:00Z", "2026-10-01T10:00:00Z"].compactMap(Timestamp.dateTime)
        #expect(DashboardModel.perDay(dates, today: today, days: 3) == [1, 0, 2])
        #expect(DashboardModel.dayLabels(today: today, days: 3) == ["2026-11-25", "2026-11-26", "2026-11-27"])
        let model = DashboardModel(security: ["SECURE": 5, "THREATS_HIGH": 2], activation: [:], connection: [:], openThreatsByClassification: [],
                                   days: [], opened: [], resolved: [], syncLatencies: [0.5, 0.1, 0.2, 3.0])
        #expect(model.securitySegments.map(\.value) == [5, 0, 0, 2])
        #expect(model.syncLatency?.median == 0.5)
        #expect(model.syncLatency?.p95 == 3.0)
    }
}

/// The console over HTTP: security headers, sessions, CSRF and roles.
@Suite(.serialized) struct ConsoleHTTPTests {
    struct Browser {
        let server: TestServer
        var cookies: [String: String] = [:]

        mutating func send(_ method: NIOHTTP1.HTTPMethod, _ path: String, form: [String: String]? = nil) async throws -> TestServer.Reply {
            var headers = ["Cookie": cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")]
            var body: Data?
            if let form {
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                var allowed = CharacterSet.alphanumerics
                allowed.insert(charactersIn: "-._~")
                body = Data(form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&").utf8)
            }
            let reply = try await server.sendRaw(method, path, headers: headers, body: body)
            for cookie in reply.headers[canonicalForm: "set-cookie"] {
                let pair = cookie.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
                if pair.count == 2 { cookies[String(pair[0])] = String(pair[1]) } else if pair.count == 1 { cookies[String(pair[0])] = "" }
            }
            return reply
        }

        static func field(_ name: String, in html: String) -> String? {
            guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
            return String(html[range.upperBound...].prefix { $0 != "\"" })
        }

        mutating func login(_ email: String, _ password: String) async throws -> TestServer.Reply {
            let form = try await send(.GET, "/console/login")
            let csrf = Self.field("_csrf", in: form.text) ?? ""
            return try await send(.POST, "/console/login", form: ["email": email, "password": password, "_csrf": csrf, "next": "/console/devices"])
        }
    }

    @Test func pagesNeedASessionFormsNeedTheirTokenAndRolesHold() async throws {
        try await withServer(.sqlite) { server in
            var browser = Browser(server: server)
            var reply = try await browser.send(.GET, "/console/devices?security=THREATS_HIGH")
            #expect(reply.status == 303)
            #expect(reply.headers.first(name: "Location") == "/console/login?next=%2Fconsole%2Fdevices%3Fsecurity%3DTHREATS%5FHIGH")

            // A login without the form's token is refused; with it, the session cookie is strict and HttpOnly.
            reply = try await browser.send(.POST, "/console/login", form: ["email": "owner@example.com", "password": server.ownerPassword])
            #expect(reply.status == 403)
            reply = try await browser.login("owner@example.com", "wrong password!")
            #expect(reply.status == 401)
            #expect(reply.text.contains("Wrong e-mail or password."))
            reply = try await browser.login("owner@example.com", server.ownerPassword)
            #expect(reply.status == 303)
            #expect(reply.headers.first(name: "Location") == "/console/devices")
            let cookie = reply.headers[canonicalForm: "set-cookie"].first { $0.hasPrefix("openmtd_console=") } ?? ""
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))

            // Every page: a CSP without unsafe-inline, and the page's style carries that response's nonce.
            reply = try await browser.send(.GET, "/console")
            #expect(reply.status == 200)
            let csp = reply.headers.first(name: "Content-Security-Policy") ?? ""
            #expect(csp.hasPrefix("default-src 'none'; style-src 'nonce-"))
            #expect(!csp.contains("unsafe-inline"))
            let nonce = csp.components(separatedBy: "'nonce-").dropFirst().first?.prefix { $0 != "'" } ?? ""
            #expect(!nonce.isEmpty && reply.text.contains("<style nonce=\"\(nonce)\">"))
            #expect(reply.headers.first(name: "X-Frame-Options") == "DENY")

            // A form post without the session's token is refused, with a page that says why.
            reply = try await browser.send(.POST, "/console/policy/severities", form: ["sev_NO_DEVICE_LOCK": "HIGH"])
            #expect(reply.status == 403)
            #expect(reply.text.contains("This form is no longer valid"))
            let policyPage = try await browser.send(.GET, "/console/policy")
            let csrf = Browser.field("_csrf", in: policyPage.text) ?? ""
            reply = try await browser.send(.POST, "/console/policy/severities", form: ["sev_NO_DEVICE_LOCK": "HIGH", "_csrf": csrf])
            #expect(reply.status == 303)
            #expect(try await browser.send(.GET, "/console/policy").text.contains("<option value=\"HIGH\" selected>high</option>"))

            // A new enrollment code from the integrations page; the old one stops activating.
            let integrations = try await browser.send(.GET, "/console/integrations")
            #expect(integrations.text.contains(server.enrollmentCode))
            reply = try await browser.send(.POST, "/console/integrations/enrollment-code", form: ["_csrf": Browser.field("_csrf", in: integrations.text) ?? ""])
            #expect(reply.status == 200)
            #expect(reply.text.contains("New enrollment code"))
            #expect(!reply.text.contains("Current enrollment code: <strong>\(server.enrollmentCode)</strong>"))
            let rejected = try await server.send(.POST, "/agent/v1/activate", json: ["enrollmentCode": server.enrollmentCode, "platform": "IOS", "mode": "EMBEDDED", "udid": "old-code"])
            #expect(rejected.status == 403)

            // A bad filter in the address is explained on a page.
            reply = try await browser.send(.GET, "/console/devices?platform=WINDOWS")
            #expect(reply.status == 400)
            #expect(reply.text.contains("expected one of IOS, ANDROID"))

            // A read-only admin sees no edit controls, and the server refuses the edit anyway.
            let owner = try await server.login()
            _ = try await server.send(.POST, "/api/v1/admins", token: owner, json: ["email": "viewer@example.com", "password": "viewer-password-123", "role": "read-only"])
            var viewer = Browser(server: server)
            reply = try await viewer.login("viewer@example.com", "viewer-password-123")
            #expect(reply.status == 303)
            let page = try await viewer.send(.GET, "/console/policy")
            #expect(!page.text.contains("Save severities"))
            #expect(!page.text.contains("<select name=\"sev_"))
            let viewerCSRF = Browser.field("_csrf", in: page.text) ?? ""
            reply = try await viewer.send(.POST, "/console/policy/severities", form: ["sev_NO_DEVICE_LOCK": "LOW", "_csrf": viewerCSRF])
            #expect(reply.status == 403)
            #expect(!(try await viewer.send(.GET, "/console/integrations").text.contains("Save</button>")))

            // Logging out ends the session.
            let dashboard = try await browser.send(.GET, "/console")
            reply = try await browser.send(.POST, "/console/logout", form: ["_csrf": Browser.field("_csrf", in: dashboard.text) ?? ""])
            #expect(reply.status == 303)
            #expect(try await browser.send(.GET, "/console").status == 303)
        }
    }

    @Test func failedLoginsFromOneAddressAreLimited() async throws {
        // Three a minute: one attempt comes back every 20 s, far longer than this test takes even on
        // a loaded machine (with ten a minute, bcrypt under load let one back in before the end).
        try await withServer(.sqlite, adjust: { $0.loginAttemptsPerMinute = 3 }) { server in
            for _ in 0..<3 {
                let reply = try await server.send(.POST, "/api/v1/auth/login", json: ["email": "owner@example.com", "password": "guess-\(UUID())"])
                #expect(reply.status == 401)
            }
            // The failures spend the allowance: even the right password waits now, on the API and in the console.
            let reply = try await server.send(.POST, "/api/v1/auth/login", json: ["email": "owner@example.com", "password": server.ownerPassword])
            #expect(reply.status == 429)
            #expect(reply.headers.first(name: "Retry-After") != nil)
            #expect(reply.errorCode == "rate_limited")
            var browser = Browser(server: server)
            let page = try await browser.login("owner@example.com", server.ownerPassword)
            #expect(page.status == 429)
            #expect(page.text.contains("Too many failed logins from this address"))
        }
    }
}
