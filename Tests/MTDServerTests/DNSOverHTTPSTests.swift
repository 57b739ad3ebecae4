import FluentKit
import Foundation
import MTDCore
import MTDStore
@testable import MTDServer
import ProtectiveDNS
import SQLKit
import TestSupport
import Testing

/// DNS-over-HTTPS (RFC 8484) through real clients: kdig over HTTPS (HTTP/2) and dnspython over
/// HTTP/1.1 and HTTP/2, against a server with a self-signed certificate and dnsmasq upstream; device
/// attribution by resolver token, its rotation and revocation, and bad requests.
@Suite(.serialized) struct DNSOverHTTPSTests {
    /// A self-signed certificate for 127.0.0.1 and localhost, made with openssl.
    static func certificate(names: String = "DNS:localhost,IP:127.0.0.1") async throws -> (certificate: String, key: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("openmtd-doh-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let certificate = folder.appendingPathComponent("cert.pem").path, key = folder.appendingPathComponent("key.pem").path
        _ = await runTool("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "2",
                                               "-subj", "/CN=localhost", "-addext", "subjectAltName=\(names)"])
        try #require(FileManager.default.fileExists(atPath: key), "openssl could not make a test certificate")
        return (certificate, key)
    }

    static func withDoHServer(_ body: (TestServer, Int) async throws -> Void) async throws {
        try requireDNSClients()
        if await !runTool("/usr/bin/env", ["python3", "-c", "import dns.query; print(dns.query.have_doh)"]).contains("True") {
            try Prerequisite.missing("dnspython with DoH (pip install \"dnspython[doh]\")")
        }
        let pair = try await certificate()
        let upstream = try await DnsmasqUpstream.start(records: ProtectiveDNSTests.records)
        defer { upstream.stop() }
        try await withServer(.sqlite, adjust: { configuration in
            configuration.tlsCertificatePath = pair.certificate
            configuration.tlsKeyPath = pair.key
            configuration.dns.upstreams = [try? DNSUpstream(parsing: "udp://127.0.0.1:\(upstream.port)")].compactMap { $0 }
            configuration.dns.upstreamTimeoutMilliseconds = 400
            configuration.dns.tlsPort = 0
            configuration.dns.policyRefreshSeconds = 0.2
        }) { server in
            let port = try #require(server.app.http.server.shared.localAddress?.port)
            #expect(server.baseURL.hasPrefix("https://"))
            try await body(server, port)
        }
    }

    /// dnspython's DoH client (httpx underneath): prints rcode, the answer and the EDE text.
    static func dnspython(_ url: String, _ name: String, http2: Bool, post: Bool = true) async -> String {
        let script = """
        import sys, dns.message, dns.query, dns.rcode
        q = dns.message.make_query(sys.argv[2], "A", use_edns=0)
        r = dns.query.https(q, sys.argv[1], post=sys.argv[4] == "1", verify=False, timeout=5, http_version=dns.query.HTTPVersion.H2 if sys.argv[3] == "1" else dns.query.HTTPVersion.H1)
        print(dns.rcode.to_text(r.rcode()), [rr.to_text() for rrset in r.answer for rr in rrset], [o.text for o in r.options if hasattr(o, "text")])
        """
        return await runTool("/usr/bin/env", ["python3", "-c", script, url, name, http2 ? "1" : "0", post ? "1" : "0"])
    }

    @Test func realClientsResolveAndAreBlockedOverHTTP1AndHTTP2() async throws {
        try await Self.withDoHServer { server, port in
            // kdig speaks DoH over HTTP/2 (POST by default, GET with +https-get).
            var answer = await runTool("/usr/bin/kdig", ["@127.0.0.1", "-p", "\(port)", "+https", "000.9.009.09.ekurbani.com", "A"])
            #expect(answer.contains("status: NXDOMAIN"), "\(answer)")
            #expect(answer.contains("PHISHING_CONTENT: 000.9.009.09.ekurbani.com (blocklistproject:phishing"), "\(answer)")
            answer = await runTool("/usr/bin/kdig", ["@127.0.0.1", "-p", "\(port)", "+https-get", "www.benign.example", "A"])
            #expect(answer.contains("status: NOERROR") && answer.contains("192.0.2.20"), "\(answer)")

            let url = "https://127.0.0.1:\(port)/dns-query"
            for http2 in [false, true] {
                answer = await Self.dnspython(url, "www.benign.example", http2: http2)
                #expect(answer.hasPrefix("NOERROR") && answer.contains("192.0.2.20"), "HTTP/\(http2 ? 2 : 1): \(answer)")
                answer = await Self.dnspython(url, "login.000.9.009.09.ekurbani.com", http2: http2, post: false)
                #expect(answer.hasPrefix("NXDOMAIN") && answer.contains("PHISHING_CONTENT"), "HTTP/\(http2 ? 2 : 1) GET: \(answer)")
            }

            // The answer carries its freshness for HTTP caches (RFC 8484 §5.1).
            let query = DNSMessageFixtures.query("www.benign.example")
            let reply = try await server.sendRaw(.POST, "/dns-query", headers: ["Content-Type": "application/dns-message", "Accept": "application/dns-message"],
                                                 body: Data(query))
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "Content-Type") == "application/dns-message")
            #expect(reply.headers.first(name: "Cache-Control")?.hasPrefix("max-age=") == true)
        }
    }

    @Test func badRequestsGetAClearError() async throws {
        try await Self.withDoHServer { server, _ in
            var reply = try await server.send(.GET, "/dns-query")
            #expect(reply.status == 400)
            #expect(reply.errorField == "dns")
            reply = try await server.send(.GET, "/dns-query?dns=%%%")
            #expect(reply.status == 400)
            reply = try await server.send(.GET, "/dns-query?dns=AAAA")
            #expect(reply.status == 400, "3 bytes: too short for a DNS header")
            reply = try await server.sendRaw(.POST, "/dns-query", headers: ["Content-Type": "text/plain"], body: Data("x".utf8))
            #expect(reply.status == 415)
            reply = try await server.sendRaw(.POST, "/dns-query", headers: ["Content-Type": "application/dns-message"], body: Data(repeating: 0xff, count: 70_000))
            #expect(reply.status == 413)
            // A malformed message with a readable header gets FORMERR, in a 200 as the RFC has it.
            var broken = DNSMessageFixtures.query("www.benign.example")
            broken.removeLast(3)
            reply = try await server.sendRaw(.POST, "/dns-query", headers: ["Content-Type": "application/dns-message"], body: Data(broken))
            #expect(reply.status == 200)
            #expect(reply.body.count >= 12 && reply.body[3] & 0x0f == 1, "FORMERR")
            reply = try await server.sendRaw(.POST, "/dns-query/rnotatokenatallxxxxxxxxxxxxx", headers: ["Content-Type": "application/dns-message"],
                                             body: Data(DNSMessageFixtures.query("www.benign.example")))
            #expect(reply.status == 404)
            #expect(reply.errorCode == "unknown_resolver_token")
        }
    }

    @Test func theResolverTokenNamesTheDeviceUntilItRotatesOrIsRevoked() async throws {
        try await Self.withDoHServer { server, _ in
            let reply = try await server.send(.POST, "/agent/v1/activate", json: [
                "enrollmentCode": server.enrollmentCode, "platform": "IOS", "mode": "EMBEDDED", "udid": "doh-phone",
            ])
            #expect(reply.status == 201)
            let token = try #require(reply.json["resolverToken"] as? String)
            let deviceText = try #require(reply.json["deviceId"] as? String)
            let deviceID = try #require(UUID(uuidString: deviceText))
            #expect(token.count == 27 && token.hasPrefix("r"))
            let tokens = server.app.mtd.dns.tokens
            #expect(try await tokens.client(for: Substring(token), on: server.app.db)?.deviceID == deviceID)
            #expect(try await tokens.client(for: Substring(token.uppercased()), on: server.app.db)?.deviceID == deviceID, "server names have no case")

            let query = Data(DNSMessageFixtures.query("www.benign.example"))
            var answer = try await server.sendRaw(.POST, "/dns-query/\(token)", headers: ["Content-Type": "application/dns-message"], body: query)
            #expect(answer.status == 200)

            // Reactivation rotates: the old token keeps resolving, for the enterprise only.
            let again = try await server.send(.POST, "/agent/v1/activate", json: [
                "enrollmentCode": server.enrollmentCode, "platform": "IOS", "mode": "EMBEDDED", "udid": "doh-phone",
            ])
            let rotated = try #require(again.json["resolverToken"] as? String)
            #expect(rotated != token)
            let old = try await tokens.client(for: Substring(token), on: server.app.db)
            #expect(old != nil && old?.deviceID == nil)
            #expect(try await tokens.client(for: Substring(rotated), on: server.app.db)?.deviceID == deviceID)
            answer = try await server.sendRaw(.POST, "/dns-query/\(token)", headers: ["Content-Type": "application/dns-message"], body: query)
            #expect(answer.status == 200, "a phone whose profile still names the old token keeps resolving")

            // Deactivation revokes.
            let credential = try #require(again.json["credential"] as? String)
            #expect(try await server.send(.POST, "/agent/v1/deactivate", token: credential).status == 204)
            #expect(try await tokens.client(for: Substring(rotated), on: server.app.db)?.deviceID == nil)
        }
    }

    /// A blocked query through a device's token opens a PHISHING_CONTENT threat on that device, even
    /// an embedded one; check-ins leave it open; it resolves after the policy's quiet days.
    @Test func aDevicesBlockedQueryBecomesAThreatUntilItGoesQuiet() async throws {
        try await Self.withDoHServer { server, port in
            let owner = try await server.login()
            let agent = try await server.activate(udid: "doh-threat")
            let deviceID = try #require(UUID(uuidString: agent.deviceID))
            #expect(try await server.checkIn(agent, Documents.android()).json["securityStatus"] as? String == "SECURE")
            let token = try #require(try await ResolverTokens.active(deviceID: deviceID, on: server.app.db))
            let answer = await runTool("/usr/bin/kdig", ["@127.0.0.1", "-p", "\(port)", "+https=/dns-query/\(token)", "login.000.9.009.09.ekurbani.com", "A"])
            #expect(answer.contains("status: NXDOMAIN"), "\(answer)")

            var threat: [String: Any]?
            let opened = try await Wait.until(within: 15) {
                let list = try await server.send(.GET, "/api/v1/threats?deviceId=\(agent.deviceID)", token: owner)
                threat = (list.json["items"] as? [[String: Any]])?.first { $0["classification"] as? String == "PHISHING_CONTENT" }
                return threat != nil
            }
            #expect(opened != nil, "the resolver's hit became a threat")
            #expect(threat?["status"] as? String == "OPEN")
            #expect("\(threat ?? [:])".contains("000.9.009.09.ekurbani.com"))
            // The decision explained for the device names that threat.
            let explained = try await server.send(.GET, "/api/v1/dns/decision?name=login.000.9.009.09.ekurbani.com&device=\(agent.deviceID)", token: owner)
            #expect(explained.json["resolverRunning"] as? Bool == true, "\(explained.text)")
            let explainedThreat = (explained.json["device"] as? [String: Any])?["threat"] as? [String: Any]
            #expect(explainedThreat?["status"] as? String == "OPEN", "\(explained.text)")
            #expect(explainedThreat?["id"] as? String == threat?["id"] as? String)
            var detail = try await server.send(.GET, "/api/v1/devices/\(agent.deviceID)", token: owner)
            #expect(((detail.json["device"] as? [String: Any])?["securityStatus"] as? String)?.hasPrefix("THREATS_") == true, "\(detail.text.prefix(400))")
            let events = try await server.events(owner)
            #expect(events.contains { ($0["type"] as? String) == "THREAT" && "\($0)".contains("PHISHING_CONTENT") })

            // A check-in does not report DNS, so it leaves the threat open; the status stays.
            let status = try await server.checkIn(agent, Documents.android()).json["securityStatus"] as? String
            #expect(status?.hasPrefix("THREATS_") == true, "\(status ?? "nil")")

            // Without another query for the policy's 7 days it resolves, and the device is secure again.
            let reporter = try #require(server.app.mtd.dns.current?.reporter)
            #expect(try await reporter.resolveQuiet(now: Date().addingTimeInterval(6 * 86_400)) == 0)
            #expect(try await reporter.resolveQuiet(now: Date().addingTimeInterval(8 * 86_400)) == 1)
            detail = try await server.send(.GET, "/api/v1/devices/\(agent.deviceID)", token: owner)
            #expect((detail.json["device"] as? [String: Any])?["securityStatus"] as? String == "SECURE")
        }
    }
}

/// DNS-over-TLS (RFC 7858) through kdig, on the same server: the SNI names the device.
extension DNSOverHTTPSTests {
    @Test func dnsOverTLSAttributesTheDeviceByItsServerName() async throws {
        try await Self.withDoHServer { server, _ in
            let port = try #require(server.app.mtd.dns.ports.tls)
            // Without a server name (dialled by address) the queries count for the enterprise.
            var answer = await runTool("/usr/bin/kdig", ["@127.0.0.1", "-p", "\(port)", "+tls", "www.benign.example", "A"])
            #expect(answer.contains("status: NOERROR") && answer.contains("192.0.2.20"), "\(answer)")
            answer = await runTool("/usr/bin/kdig", ["@127.0.0.1", "-p", "\(port)", "+tls", "+tls-sni=dns.localhost", "000.9.009.09.ekurbani.com", "A"])
            #expect(answer.contains("status: NXDOMAIN") && answer.contains("PHISHING_CONTENT"), "\(answer)")

            // A name holding a token that was never issued is refused, with the reason.
            let unknown = "r" + String(repeating: "a", count: 26)
            answer = await runTool("/usr/bin/kdig", ["@127.0.0.1", "-p", "\(port)", "+tls", "+tls-sni=\(unknown).dns.localhost", "www.benign.example", "A"])
            #expect(answer.contains("status: REFUSED") && answer.contains("unknown resolver token"), "\(answer)")

            // Something that is not TLS on the port is dropped; the listener keeps serving.
            _ = await runTool("/usr/bin/dig", ["+tcp", "+tries=1", "+time=2", "@127.0.0.1", "-p", "\(port)", "www.benign.example"])

            // `{token}.dns.HOST` is the device: its blocked query opens a threat on it.
            let owner = try await server.login()
            let agent = try await server.activate(udid: "dot-phone")
            let deviceID = try #require(UUID(uuidString: agent.deviceID))
            let token = try #require(try await ResolverTokens.active(deviceID: deviceID, on: server.app.db))
            answer = await runTool("/usr/bin/kdig", ["@127.0.0.1", "-p", "\(port)", "+tls", "+tls-sni=\(token.uppercased()).dns.localhost",
                                                     "login.000.9.009.09.ekurbani.com", "A"])
            #expect(answer.contains("status: NXDOMAIN"), "\(answer)")
            let opened = try await Wait.until(within: 15) {
                let list = try await server.send(.GET, "/api/v1/threats?deviceId=\(agent.deviceID)", token: owner)
                return (list.json["items"] as? [[String: Any]])?.contains { $0["classification"] as? String == "PHISHING_CONTENT" } == true
            }
            #expect(opened != nil, "the DoT query was attributed to the device named by its SNI")
            // Queries of other connections stayed with the enterprise: no other device has a threat.
            let all = try await server.send(.GET, "/api/v1/threats", token: owner)
            #expect((all.json["items"] as? [[String: Any]])?.allSatisfy { $0["deviceId"] as? String == agent.deviceID } == true, "\(all.text.prefix(300))")
        }
    }
}

/// A device that checks in while its resolver stays silent (its DNS profile removed) gets
/// PCP_DISABLED, with the policy's `silenceHours`; its next query resolves it.
extension DNSOverHTTPSTests {
    @Test func aSilentResolverRaisesPCPDisabledUntilQueriesComeBack() async throws {
        try await Self.withDoHServer { server, port in
            let owner = try await server.login()
            var reply = try await server.send(.PUT, "/api/v1/policy", token: owner, json: ["protectiveDNS": ["silenceHours": 0]])
            #expect(reply.status == 400 && reply.errorField == "$.protectiveDNS.silenceHours", "\(reply.text)")
            let agent = try await server.activate(udid: "silent-phone")
            let quiet = try await server.activate(udid: "off-phone")
            let deviceID = try #require(UUID(uuidString: agent.deviceID))
            #expect(try await server.checkIn(agent, Documents.android()).json["securityStatus"] as? String == "SECURE")
            let reporter = try #require(server.app.mtd.dns.current?.reporter)
            // Off by default: nobody is flagged.
            #expect(try await reporter.raiseSilence() == 0)

            reply = try await server.send(.PUT, "/api/v1/policy", token: owner, json: ["protectiveDNS": ["silenceHours": 1]])
            #expect(reply.status == 200, "\(reply.text)")
            #expect(try await reporter.raiseSilence() == 0, "tokens issued within the hour")
            // Both tokens were issued two hours ago and carried no query; one device checks in now,
            // the other was last heard of (its activation) three hours ago: it is off, not silent.
            let database = server.app.db
            let quietID = try #require(UUID(uuidString: quiet.deviceID))
            try await server.app.mtd.writes.run {
                try await ResolverTokenModel.query(on: database).set(\.$createdAt, to: Date().addingTimeInterval(-7_200)).update()
                try await DeviceModel.query(on: database).filter(\.$id == quietID).set(\.$lastCheckInAt, to: Date().addingTimeInterval(-10_800)).update()
            }
            _ = try await server.checkIn(agent, Documents.android())
            let raised = try await reporter.raiseSilence()
            #expect(raised == 1, "only the device that checks in; raised \(raised)")
            #expect(try await reporter.raiseSilence() == 0, "raised once")
            var threats = try await server.send(.GET, "/api/v1/threats?deviceId=\(agent.deviceID)", token: owner)
            let threat = (threats.json["items"] as? [[String: Any]])?.first { $0["classification"] as? String == "PCP_DISABLED" }
            #expect(threat?["status"] as? String == "OPEN", "\(threats.text.prefix(400))")
            #expect("\(threat ?? [:])".contains("protective-dns"))
            let status = try await server.checkIn(agent, Documents.android()).json["securityStatus"] as? String
            #expect(status?.hasPrefix("THREATS_") == true, "a check-in leaves the resolver's threat open: \(status ?? "nil")")

            // The profile is back: the device's next query resolves the threat.
            let token = try #require(try await ResolverTokens.active(deviceID: deviceID, on: server.app.db))
            let answer = await runTool("/usr/bin/kdig", ["@127.0.0.1", "-p", "\(port)", "+https=/dns-query/\(token)", "www.benign.example", "A"])
            #expect(answer.contains("status: NOERROR"), "\(answer)")
            let resolved = try await Wait.until(within: 10) {
                threats = try await server.send(.GET, "/api/v1/threats?deviceId=\(agent.deviceID)", token: owner)
                return (threats.json["items"] as? [[String: Any]])?.contains { $0["classification"] as? String == "PCP_DISABLED" && $0["status"] as? String == "RESOLVED" } == true
            }
            #expect(resolved != nil, "\(threats.text.prefix(400))")
            let detail = try await server.send(.GET, "/api/v1/devices/\(agent.deviceID)", token: owner)
            #expect((detail.json["device"] as? [String: Any])?["securityStatus"] as? String == "SECURE")
            #expect(try await reporter.raiseSilence() == 0, "its last query is recent")
        }
    }
}

/// DNS queries built by hand, for requests that clients would not send.
enum DNSMessageFixtures {
    static func query(_ name: String, id: UInt16 = 0) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.split(separator: ".") {
            bytes.append(UInt8(label.utf8.count))
            bytes.append(contentsOf: label.utf8)
        }
        bytes += [0, 0, 1, 0, 1]
        return bytes
    }
}

/// What an admin sees of the resolver in the console: blocks per day on the dashboard, counted for
/// every client (attributed or not), and copy-ready settings on the integrations page.
extension DNSOverHTTPSTests {
    @Test func theConsoleCountsBlocksPerDayAndShowsTheResolverSettings() async throws {
        try await Self.withDoHServer { server, port in
            for name in ["000.9.009.09.ekurbani.com", "login.000.9.009.09.ekurbani.com"] {
                let answer = await runTool("/usr/bin/kdig", ["@127.0.0.1", "-p", "\(port)", "+https", name, "A"])
                #expect(answer.contains("status: NXDOMAIN"), "\(answer)")
            }
            _ = await runTool("/usr/bin/kdig", ["@127.0.0.1", "-p", "\(port)", "+https", "www.benign.example", "A"])
            let reporter = try #require(server.app.mtd.dns.current?.reporter)
            await reporter.flush()

            var browser = ConsoleHTTPTests.Browser(server: server)
            _ = try await browser.login("owner@example.com", "owner-password-1234")
            let dashboard = try await browser.send(.GET, "/console")
            #expect(dashboard.status == 200)
            let panel = try #require(dashboard.text.range(of: "id=\"dns-blocks\"").map { String(dashboard.text[$0.lowerBound...].prefix(4_000)) },
                                     "the dashboard has a protective DNS panel")
            #expect(panel.contains("Blocked</span><span>2</span>"), "two blocks, the benign name is not counted: \(panel)")
            #expect(panel.contains("Logged only</span><span>0</span>"))

            // A second flush adds to the same day's row instead of replacing it.
            _ = await runTool("/usr/bin/kdig", ["@127.0.0.1", "-p", "\(port)", "+https", "000.9.009.09.ekurbani.com", "A"])
            await reporter.flush()
            let again = try await browser.send(.GET, "/console")
            #expect(again.text.contains("Blocked</span><span>3</span>"))

            let integrations = try await browser.send(.GET, "/console/integrations")
            #expect(integrations.status == 200)
            let settings = try #require(integrations.text.range(of: "id=\"dns-settings\"").map { String(integrations.text[$0.lowerBound...].prefix(6_000)) })
            #expect(settings.contains("\(server.baseURL)/dns-query/{ResolverToken}"))
            #expect(settings.contains("{ResolverToken}.dns.127.0.0.1"), "DoT runs on this server, so the server name is offered")
            #expect(settings.contains("com.apple.dnsSettings.managed"))
            #expect(settings.contains("&quot;DnsSettings&quot;") || settings.contains("\"DnsSettings\""), "the built-in UEM profile body")
        }
    }

    /// Also the counters' SQL on both databases: upsert, sums per day, retention.
    @Test(arguments: TestDatabase.available)
    func withoutTheResolverTheConsoleSaysHowToTurnItOn(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            var browser = ConsoleHTTPTests.Browser(server: server)
            _ = try await browser.login("owner@example.com", "owner-password-1234")
            var dashboard = try await browser.send(.GET, "/console")
            #expect(dashboard.status == 200 && !dashboard.text.contains("id=\"dns-blocks\""))
            let integrations = try await browser.send(.GET, "/console/integrations")
            #expect(integrations.text.contains("The protective resolver is off") && integrations.text.contains("--dns-upstream"))

            // Counts from another replica's resolver (or from before it was turned off) still show.
            let sql = try #require(server.app.db as? any SQLDatabase)
            let today = Timestamp.day(of: Date())
            let key = DNSDailyCounts.Key(enterpriseID: server.enterpriseID, day: today, classification: "PHISHING_CONTENT", verdict: "BLOCK")
            let old = DNSDailyCounts.Key(enterpriseID: server.enterpriseID, day: today - 500, classification: "PHISHING_CONTENT", verdict: "BLOCK")
            try await server.app.mtd.writes.run {
                try await DNSDailyCounts.add([key: 4, old: 1], on: sql)
                try await DNSDailyCounts.add([key: 3], on: sql)
            }
            #expect(try await DNSDailyCounts.blocks(enterpriseID: server.enterpriseID, from: today - 600, on: sql) == [today: 7, today - 500: 1])
            try await server.app.mtd.writes.run { try await DNSDailyCounts.deleteBefore(day: today - 400, on: sql) }
            #expect(try await DNSDailyCounts.blocks(enterpriseID: server.enterpriseID, from: today - 600, on: sql) == [today: 7])
            dashboard = try await browser.send(.GET, "/console")
            #expect(dashboard.text.contains("id=\"dns-blocks\"") && dashboard.text.contains("Blocked</span><span>7</span>"))
            #expect(dashboard.text.contains("The resolver is off on this replica."))
        }
    }
}

/// The per-device query log: off by default, on with the policy's `queryLogDays`, read by owners
/// and analysts through the admin API, and deleted when the policy turns it off.
extension DNSOverHTTPSTests {
    @Test func aDevicesQueriesAreLoggedOnlyWhenThePolicyKeepsThem() async throws {
        try await Self.withDoHServer { server, port in
            let owner = try await server.login()
            let agent = try await server.activate(udid: "logged-phone")
            let deviceID = try #require(UUID(uuidString: agent.deviceID))
            let token = try #require(try await ResolverTokens.active(deviceID: deviceID, on: server.app.db))
            let reporter = try #require(server.app.mtd.dns.current?.reporter)
            func ask(_ name: String) async {
                _ = await runTool("/usr/bin/kdig", ["@127.0.0.1", "-p", "\(port)", "+https=/dns-query/\(token)", name, "A"])
            }

            // Off by default: queries leave no trace but the counters.
            await ask("www.benign.example")
            await reporter.flush()
            var page = try await server.send(.GET, "/api/v1/devices/\(agent.deviceID)/dns-queries", token: owner)
            #expect(page.status == 200 && page.json["enabled"] as? Bool == false && (page.json["items"] as? [Any])?.isEmpty == true, "\(page.text)")
            var offBrowser = ConsoleHTTPTests.Browser(server: server)
            _ = try await offBrowser.login("owner@example.com", "owner-password-1234")
            #expect(try await offBrowser.send(.GET, "/console/devices/\(agent.deviceID)").text.contains("The query log is off"))

            var reply = try await server.send(.PUT, "/api/v1/policy", token: owner, json: ["protectiveDNS": ["queryLogDays": 91]])
            #expect(reply.status == 400 && reply.errorField == "$.protectiveDNS.queryLogDays", "\(reply.text)")
            reply = try await server.send(.PUT, "/api/v1/policy", token: owner, json: ["protectiveDNS": ["queryLogDays": 7]])
            #expect(reply.status == 200, "\(reply.text)")
            // The resolver re-reads the policy within its refresh interval (0.2 s here).
            let logged = try await Wait.until(within: 10) {
                await ask("www.benign.example")
                await reporter.flush()
                let items = try await server.send(.GET, "/api/v1/devices/\(agent.deviceID)/dns-queries", token: owner).json["items"] as? [Any]
                return items?.isEmpty == false
            }
            #expect(logged != nil, "the log starts once the policy keeps it")
            await ask("login.000.9.009.09.ekurbani.com")
            await reporter.flush()
            page = try await server.send(.GET, "/api/v1/devices/\(agent.deviceID)/dns-queries?limit=1", token: owner)
            let items = try #require(page.json["items"] as? [[String: Any]])
            #expect(page.json["enabled"] as? Bool == true && page.json["retentionDays"] as? Int == 7)
            #expect(items.count == 1 && items[0]["name"] as? String == "login.000.9.009.09.ekurbani.com" && items[0]["action"] as? String == "BLOCK"
                    && items[0]["classification"] as? String == "PHISHING_CONTENT" && items[0]["indicator"] as? String == "000.9.009.09.ekurbani.com",
                    "\(page.text)")
            let next = try #require(page.json["next"] as? String)
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._")
            page = try await server.send(.GET, "/api/v1/devices/\(agent.deviceID)/dns-queries?before=\(next.addingPercentEncoding(withAllowedCharacters: allowed) ?? next)", token: owner)
            let older = try #require(page.json["items"] as? [[String: Any]])
            #expect(older.first?["name"] as? String == "www.benign.example" && older.first?["action"] as? String == "ALLOW" && older.first?["type"] as? String == "A",
                    "\(page.text)")

            // The console's device page shows the same log to owners and analysts, not to read-only admins.
            var browser = ConsoleHTTPTests.Browser(server: server)
            _ = try await browser.login("owner@example.com", "owner-password-1234")
            let devicePage = try await browser.send(.GET, "/console/devices/\(agent.deviceID)")
            let section = try #require(devicePage.text.range(of: "id=\"dns\"").map { String(devicePage.text[$0.lowerBound...].prefix(6_000)) },
                                       "the device page has a protective DNS section: \(devicePage.text.prefix(300))")
            #expect(section.contains("Queries are kept 7 days"), "\(section)")
            #expect(section.contains("<td>login.000.9.009.09.ekurbani.com</td>") && section.contains("badge bad\">blocked"), "\(section)")
            #expect(section.contains("<td>www.benign.example</td>") && section.contains("phishing content"))
            #expect(section.contains("badge ok\">active"), "the resolver token is shown as active: \(section)")
            let cursor = "?dnsBefore=" + next
            let olderPage = try await browser.send(.GET, "/console/devices/\(agent.deviceID)\(cursor.addingPercentEncoding(withAllowedCharacters: allowed.union(["?", "="])) ?? cursor)")
            #expect(olderPage.status == 200 && !olderPage.text.contains("<td>login.000.9.009.09.ekurbani.com</td>") && olderPage.text.contains("<td>www.benign.example</td>"),
                    "\(olderPage.text.prefix(200))")
            reply = try await server.send(.POST, "/api/v1/admins", token: owner, json: ["email": "viewer@example.com", "password": "viewer-password-1", "role": "read-only"])
            #expect(reply.status == 201, "\(reply.text)")
            var viewer = ConsoleHTTPTests.Browser(server: server)
            _ = try await viewer.login("viewer@example.com", "viewer-password-1")
            let viewerPage = try await viewer.send(.GET, "/console/devices/\(agent.deviceID)")
            #expect(viewerPage.text.contains("owners and analysts see its queries") && !viewerPage.text.contains("<td>login.000.9.009.09.ekurbani.com</td>"),
                    "\(viewerPage.text.prefix(200))")

            // Bad paging is a 400 naming the parameter; another enterprise's device is not found.
            reply = try await server.send(.GET, "/api/v1/devices/\(agent.deviceID)/dns-queries?limit=0", token: owner)
            #expect(reply.status == 400 && reply.errorField == "limit", "\(reply.text)")
            reply = try await server.send(.GET, "/api/v1/devices/\(agent.deviceID)/dns-queries?before=yesterday", token: owner)
            #expect(reply.status == 400 && reply.errorField == "before", "\(reply.text)")
            reply = try await server.send(.GET, "/api/v1/devices/\(UUID())/dns-queries", token: owner)
            #expect(reply.status == 404)

            // Turned off, the retention pass deletes what was kept.
            reply = try await server.send(.PUT, "/api/v1/policy", token: owner, json: ["protectiveDNS": [String: Any]()])
            #expect(reply.status == 200)
            #expect(try await reporter.queryLog.purge(policies: server.app.mtd.policies) >= 2)
            page = try await server.send(.GET, "/api/v1/devices/\(agent.deviceID)/dns-queries", token: owner)
            #expect(page.json["enabled"] as? Bool == false && (page.json["items"] as? [Any])?.isEmpty == true, "\(page.text)")
        }
    }
}
