import Foundation
import MTDAgent
import MTDCore
import MTDStore
@testable import MTDServer
import ProtectiveDNS
import SQLKit
import TestSupport
import Testing

/// The protective resolver through real clients (dig, kdig) and a real upstream (dnsmasq), all
/// on loopback: decisions from the shipped intelligence and the policy, the blocked answer with
/// its Extended DNS Error, TCP and truncation, caching, failover, and malformed input.
@Suite(.serialized) struct ProtectiveDNSTests {
    /// A phishing host of the shipped blocklistproject list, a stalkerware domain, a shared-hosting
    /// customer flagged for phishing, and benign names, all answered by the test upstream.
    static let records = [
        "local=/benign.example/",
        "host-record=www.benign.example,192.0.2.20",
        "host-record=000.9.009.09.ekurbani.com,192.0.2.66",
        "cname=tracker.benign.example,000.9.009.09.ekurbani.com",
        "address=/1topspy.com/192.0.2.67",
        "address=/weebly.com/192.0.2.68",
        "address=/0x0.st/192.0.2.69",
        "address=/cached.benign.example/192.0.2.21",
        "txt-record=big.benign.example," + (0..<3).map { _ in "\"" + String(repeating: "x", count: 200) + "\"" }.joined(separator: ","),
    ]

    static func withResolver(upstreams: (DnsmasqUpstream) -> [String] = { ["udp://127.0.0.1:\($0.port)"] }, timeoutMilliseconds: Int = 400,
                             _ body: (TestServer, DnsmasqUpstream, Int, Int) async throws -> Void) async throws {
        try requireDNSClients()
        let upstream = try await DnsmasqUpstream.start(records: records)
        defer { upstream.stop() }
        try await withServer(.sqlite, adjust: { configuration in
            configuration.dns.udpPort = 0
            configuration.dns.tcpPort = 0
            configuration.dns.upstreams = upstreams(upstream).compactMap { try? DNSUpstream(parsing: $0) }
            configuration.dns.upstreamTimeoutMilliseconds = timeoutMilliseconds
            configuration.dns.policyRefreshSeconds = 0.2
        }) { server in
            let ports = server.app.mtd.dns.ports
            #expect(ports.udp == ports.tcp, "UDP and TCP share a port, where clients retry a truncated answer")
            try await body(server, upstream, try #require(ports.udp), try #require(ports.tcp))
        }
    }

    @Test func shippedIntelligenceIsBlockedWithTheReasonAndBenignNamesResolve() async throws {
        try await Self.withResolver { server, _, udp, _ in
            let at = ["@127.0.0.1", "-p", "\(udp)", "+time=2", "+tries=1"]
            var answer = await dig(at + ["000.9.009.09.ekurbani.com", "A"])
            #expect(answer.contains("status: NXDOMAIN"), "\(answer)")
            #expect(answer.contains("EDE: 17 (Filtered)"), "\(answer)")
            #expect(answer.contains("PHISHING_CONTENT: 000.9.009.09.ekurbani.com (blocklistproject:phishing"), "\(answer)")

            // A subdomain of an indicator is blocked; the stalkerware vendor's domain counts as malicious content.
            answer = await dig(at + ["login.000.9.009.09.ekurbani.com", "A"])
            #expect(answer.contains("status: NXDOMAIN") && answer.contains("EDE: 17"), "\(answer)")
            answer = await dig(at + ["api.1topspy.com", "A"])
            #expect(answer.contains("MALICIOUS_CONTENT: 1topspy.com (stalkerware"), "\(answer)")

            // Shared hosting: the flagged customer is blocked, the hosting domain and a host with only URL indicators are not.
            answer = await dig(at + ["21457452org.weebly.com", "A"])
            #expect(answer.contains("status: NXDOMAIN") && answer.contains("PHISHING_CONTENT"), "\(answer)")
            #expect(await dig(at + ["+short", "www.weebly.com"]).contains("192.0.2.68"))
            #expect(await dig(at + ["+short", "0x0.st"]).contains("192.0.2.69"), "URL-level indicators never block a whole host")

            answer = await dig(at + ["www.benign.example", "A"])
            #expect(answer.contains("status: NOERROR") && answer.contains("192.0.2.20") && !answer.contains("EDE"), "\(answer)")
            // An allowed alias of a blocked name is blocked (CNAME cloaking).
            answer = await dig(at + ["tracker.benign.example", "A"])
            #expect(answer.contains("status: NXDOMAIN") && answer.contains("PHISHING_CONTENT"), "\(answer)")
            // A client without EDNS gets the block without an OPT record.
            answer = await dig(at + ["+noedns", "000.9.009.09.ekurbani.com"])
            #expect(answer.contains("status: NXDOMAIN") && !answer.contains("OPT PSEUDOSECTION"), "\(answer)")

            let metrics = try await server.send(.GET, "/metrics")
            #expect(metrics.text.contains(#"openmtd_dns_blocks_total{class="PHISHING_CONTENT"}"#), "\(metrics.text.prefix(300))")
        }
    }

    @Test func thePolicyAllowsDeniesAndChoosesTheBlockedAnswer() async throws {
        try await Self.withResolver { server, _, udp, _ in
            let at = ["@127.0.0.1", "-p", "\(udp)", "+time=2", "+tries=1"]
            let owner = try await server.login()
            var reply = try await server.send(.PUT, "/api/v1/policy", token: owner, json: [
                "contentDenyList": ["benign.example"],
                "protectiveDNS": ["allowList": ["ekurbani.com"], "blockedAnswer": "NULL_ADDRESS", "actions": ["MALICIOUS_CONTENT": "LOG_ONLY"]],
            ])
            #expect(reply.status == 200, "\(reply.text)")
            let applied = try await Wait.until(within: 5) { await dig(at + ["+short", "000.9.009.09.ekurbani.com"]).contains("192.0.2.66") }
            #expect(applied != nil, "the allow list wins over intelligence")
            var answer = await dig(at + ["www.benign.example", "A"])
            #expect(answer.contains("status: NOERROR") && answer.contains("0.0.0.0") && answer.contains("EDE: 15 (Blocked)"), "\(answer)")
            #expect(answer.contains("DENYLISTED_CONTENT: benign.example (policy)"), "\(answer)")
            answer = await dig(at + ["www.benign.example", "AAAA"])
            #expect(answer.contains("\t::") && answer.contains("EDE: 15"), "\(answer)")
            #expect(await dig(at + ["+short", "1topspy.com"]).contains("192.0.2.67"), "LOG_ONLY resolves normally")

            reply = try await server.send(.PUT, "/api/v1/policy", token: owner, json: ["protectiveDNS": ["allowList": ["not a domain"]]])
            #expect(reply.status == 400)
            #expect(reply.errorField == "$.protectiveDNS.allowList[0]", "\(reply.text)")
            reply = try await server.send(.PUT, "/api/v1/policy", token: owner, json: ["protectiveDNS": ["actions": ["SPYWARE": "BLOCK"]]])
            #expect(reply.status == 400, "\(reply.text)")
        }
    }

    @Test func tcpTruncationAndCachingWork() async throws {
        try await Self.withResolver { _, upstream, udp, tcp in
            // Over UDP a 650-byte answer does not fit 512 bytes: TC, and dig's retry over TCP gets it all.
            var answer = await dig(["@127.0.0.1", "-p", "\(udp)", "+bufsize=512", "+ignore", "big.benign.example", "TXT"])
            #expect(answer.contains(" tc ") && answer.contains("ANSWER: 0"), "\(answer)")
            answer = await dig(["@127.0.0.1", "-p", "\(udp)", "+bufsize=512", "big.benign.example", "TXT"])
            #expect(answer.contains("Truncated, retrying in TCP mode") || answer.contains("(TCP)"), "\(answer)")
            #expect(answer.components(separatedBy: String(repeating: "x", count: 200)).count == 4, "\(answer)")
            #expect(await dig(["@127.0.0.1", "-p", "\(tcp)", "+tcp", "+short", "www.benign.example"]).contains("192.0.2.20"))
            answer = await dig(["@127.0.0.1", "-p", "\(tcp)", "+tcp", "+short", "www.benign.example"], tool: "/usr/bin/kdig")
            #expect(answer.contains("192.0.2.20"), "kdig over TCP: \(answer)")
            answer = await dig(["@127.0.0.1", "-p", "\(tcp)", "+tcp", "+edns", "000.9.009.09.ekurbani.com"], tool: "/usr/bin/kdig")
            #expect(answer.contains("NXDOMAIN") && answer.contains("EDE: 17"), "kdig over TCP: \(answer)")

            // Asked five times, the upstream sees the name once; the TTL counts down.
            for _ in 0..<5 { _ = await dig(["@127.0.0.1", "-p", "\(udp)", "+short", "cached.benign.example"]) }
            #expect(upstream.queriesReceived(for: "cached.benign.example") == 1)
            try await Task.sleep(nanoseconds: 1_200_000_000)
            answer = await dig(["@127.0.0.1", "-p", "\(udp)", "+noall", "+answer", "cached.benign.example"])
            let ttl = Int(answer.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first ?? "") ?? 0
            #expect((1..<300).contains(ttl), "\(answer)")
        }
    }

    @Test func aDeadUpstreamFailsOverAndNoUpstreamIsServfailWithTheReason() async throws {
        // The first upstream is a port nobody listens on.
        // Each upstream gets 1.5 s: asking the dead one first would show as a wait of at least that.
        try await Self.withResolver(upstreams: { ["udp://127.0.0.1:9", "udp://127.0.0.1:\($0.port)"] }, timeoutMilliseconds: 1_500) { _, _, udp, _ in
            var answer = await dig(["@127.0.0.1", "-p", "\(udp)", "+time=4", "+tries=1", "www.benign.example"])
            #expect(answer.contains("status: NOERROR") && answer.contains("192.0.2.20"), "\(answer)")
            // The upstream that answered is asked first from then on: no wait for the dead one.
            answer = await dig(["@127.0.0.1", "-p", "\(udp)", "+time=4", "+tries=1", "alias.benign.example"])
            let time = Int(answer.components(separatedBy: "Query time: ").dropFirst().first?.prefix { $0.isNumber } ?? "") ?? 9_999
            #expect(time < 1_000, "\(answer)")
        }
        try await Self.withResolver(upstreams: { _ in ["udp://127.0.0.1:9"] }) { _, _, udp, _ in
            let answer = await dig(["@127.0.0.1", "-p", "\(udp)", "+time=3", "+tries=1", "www.benign.example"])
            #expect(answer.contains("status: SERVFAIL") && answer.contains("EDE: 22"), "\(answer)")
        }
    }

    @Test func malformedMessagesNeverStopTheResolver() async throws {
        try await Self.withResolver { _, _, udp, tcp in
            let script = """
            import socket, sys, random
            udp, tcp = int(sys.argv[1]), int(sys.argv[2])
            random.seed(7)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(0.1)
            formerr = 0
            for i in range(150):
                n = random.randint(0, 80)
                packet = bytes(random.getrandbits(8) for _ in range(n))
                if i % 3 == 0 and n >= 12:
                    packet = bytes([packet[0], packet[1], 0, 0]) + packet[4:]
                s.sendto(packet, ("127.0.0.1", udp))
                try:
                    reply, _ = s.recvfrom(4096)
                    if len(reply) >= 4 and reply[3] & 15 == 1: formerr += 1
                except socket.timeout:
                    pass
            c = socket.create_connection(("127.0.0.1", tcp))
            c.sendall(b"\\x00\\x05hello\\x00\\x02\\xff")
            c.close()
            print("formerr", formerr)
            """
            let printed = await runTool("/usr/bin/python3", ["-c", script, "\(udp)", "\(tcp)"])
            let formerr = Int(printed.components(separatedBy: "formerr ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
            #expect(formerr > 0, "garbage with a readable header gets FORMERR: \(printed)")
            #expect(await dig(["@127.0.0.1", "-p", "\(udp)", "+short", "www.benign.example"]).contains("192.0.2.20"), "still answering over UDP")
            #expect(await dig(["@127.0.0.1", "-p", "\(tcp)", "+tcp", "+short", "www.benign.example"]).contains("192.0.2.20"), "still answering over TCP")
        }
    }
}

/// Encrypted upstreams: DNS-over-TLS and DNS-over-HTTPS to unbound, the certificate checked
/// against the configured CA, pipelined queries on one connection, a reconnect after the upstream
/// closes an idle one, and failover between transports.
extension ProtectiveDNSTests {
    @Test func tlsAndHTTPSUpstreamsAnswerWithTheirCertificateChecked() async throws {
        try requireDNSClients()
        // Only a host name: dialled by address, the upstream must be given the name to check.
        let pair = try await DNSOverHTTPSTests.certificate(names: "DNS:localhost")
        let origin = try await DnsmasqUpstream.start(records: Self.records)
        defer { origin.stop() }
        let unbound = try await UnboundEncryptedUpstream.start(forwardingTo: origin.port, certificate: pair.certificate, key: pair.key, idleMilliseconds: 300)
        defer { unbound.stop() }
        func serve(_ upstreams: [String], ca: String?, _ body: (Int) async throws -> Void) async throws {
            try await withServer(.sqlite, adjust: { configuration in
                configuration.dns.udpPort = 0
                configuration.dns.upstreams = upstreams.compactMap { try? DNSUpstream(parsing: $0) }
                configuration.dns.upstreamCAFile = ca
                configuration.dns.upstreamTimeoutMilliseconds = 2_000
            }) { server in
                #expect(server.app.mtd.dns.current != nil)
                try await body(try #require(server.app.mtd.dns.ports.udp))
            }
        }
        for upstream in ["tls://localhost:\(unbound.tlsPort)", "tls://127.0.0.1:\(unbound.tlsPort)#localhost", "https://localhost:\(unbound.httpsPort)/dns-query"] {
            try await serve([upstream], ca: pair.certificate) { udp in
                let answer = await dig(["@127.0.0.1", "-p", "\(udp)", "+time=4", "+tries=1", "www.benign.example"])
                #expect(answer.contains("status: NOERROR") && answer.contains("192.0.2.20"), "\(upstream): \(answer)")
                // Blocking still happens before any upstream is asked.
                let blocked = await dig(["@127.0.0.1", "-p", "\(udp)", "+time=4", "+tries=1", "000.9.009.09.ekurbani.com"])
                #expect(blocked.contains("status: NXDOMAIN") && blocked.contains("EDE: 17"), "\(blocked)")
                // Many queries at once share the upstream connection (pipelined, answers by id). One
                // client process sends them all (24 dig processes would wait on the test's threads).
                let burst = await runTool("/usr/bin/env", ["python3", "-c", Self.burstScript, "\(udp)", "24"])
                #expect(burst.hasPrefix("24 of 24"), "\(upstream): \(burst)")
                // unbound closes idle connections after 300 ms: the next query opens a new one.
                try await Task.sleep(nanoseconds: 800_000_000)
                let later = await dig(["@127.0.0.1", "-p", "\(udp)", "+time=4", "+tries=1", "+short", "later.cached.benign.example"])
                #expect(later.contains("192.0.2.21"), "\(upstream) after the idle close: \(later)")
            }
        }
        #expect(unbound.queriesReceived(for: "www.benign.example") == 3, "each answer came through unbound")

        // Without the CA the self-signed certificate is refused: SERVFAIL naming the check that failed.
        try await serve(["tls://localhost:\(unbound.tlsPort)"], ca: nil) { udp in
            let answer = await dig(["@127.0.0.1", "-p", "\(udp)", "+time=5", "+tries=1", "www.benign.example"])
            #expect(answer.contains("status: SERVFAIL") && answer.contains("CERTIFICATE_VERIFY_FAILED"), "\(answer)")
        }
        // A name or an address the certificate does not carry is refused too.
        for upstream in ["tls://127.0.0.1:\(unbound.tlsPort)#dns.example.net", "tls://127.0.0.1:\(unbound.tlsPort)", "https://127.0.0.1:\(unbound.httpsPort)/dns-query"] {
            try await serve([upstream], ca: pair.certificate) { udp in
                let answer = await dig(["@127.0.0.1", "-p", "\(udp)", "+time=5", "+tries=1", "www.benign.example"])
                #expect(answer.contains("status: SERVFAIL") && answer.contains("EDE: 22"), "\(upstream): \(answer)")
            }
        }
        // A dead DoT upstream fails over to DoH.
        try await serve(["tls://127.0.0.1:9#localhost", "https://localhost:\(unbound.httpsPort)/dns-query"], ca: pair.certificate) { udp in
            let answer = await dig(["@127.0.0.1", "-p", "\(udp)", "+time=5", "+tries=1", "failover.cached.benign.example"])
            #expect(answer.contains("status: NOERROR"), "\(answer)")
        }
    }

    /// dnspython's asyncio client: N distinct names at once, prints how many got 192.0.2.21.
    static let burstScript = """
    import asyncio, sys, dns.asyncquery, dns.message
    async def ask(i):
        q = dns.message.make_query(f"n{i}.cached.benign.example", "A")
        try:
            r = await dns.asyncquery.udp(q, "127.0.0.1", port=int(sys.argv[1]), timeout=4)
            return any(rr.to_text() == "192.0.2.21" for rrset in r.answer for rr in rrset)
        except Exception as e:
            return repr(e)
    async def main():
        n = int(sys.argv[2])
        results = await asyncio.gather(*(ask(i) for i in range(n)))
        print(f"{sum(1 for r in results if r is True)} of {n}", [r for r in results if r is not True])
    asyncio.run(main())
    """

    @Test func upstreamAddressesAreParsedWithTheirFaultsNamed() throws {
        let tls = try DNSUpstream(parsing: "tls://9.9.9.9#dns.quad9.net")
        #expect(tls.port == 853 && tls.serverName == "dns.quad9.net" && tls.description == "tls://9.9.9.9:853#dns.quad9.net")
        let https = try DNSUpstream(parsing: "https://dns.example.net/dns-query")
        #expect(https.port == 443 && https.path == "/dns-query" && https.description == "https://dns.example.net:443/dns-query")
        for (bad, words) in [("https://dns.example.net/q#name", "#NAME is for tls://"), ("tls://9.9.9.9:853#", "after # comes"),
                             ("tls://9.9.9.9:853#bad name", "after # comes"), ("quic://9.9.9.9", "udp, tls or https"), ("tls://:853", "host is missing")] {
            #expect(throws: DNSConfigurationError.self, "\(bad)") { try DNSUpstream(parsing: bad) }
            do { _ = try DNSUpstream(parsing: bad) } catch { #expect(error.description.contains(words), "\(bad): \(error)") }
        }
    }
}

/// Plain DNS from an enterprise's declared networks counts for that enterprise; once networks are
/// declared, a client outside all of them is refused; two enterprises cannot claim one network.
extension ProtectiveDNSTests {
    @Test func plainDNSCountsForTheEnterpriseWhoseNetworkItComesFrom() async throws {
        try await Self.withResolver { server, _, udp, _ in
            let owner = try await server.login()
            let db = server.app.db
            let other = try await server.app.mtd.writes.run {
                try await EnterpriseProvisioning.create(name: "Branch", ownerEmail: "boss@branch.example", ownerPassword: "branch-password-99", on: db)
            }
            let branch = try await server.login("boss@branch.example", password: "branch-password-99")
            let reporter = try #require(server.app.mtd.dns.current?.reporter)
            let sql = try #require(server.app.db as? any SQLDatabase)
            let today = Timestamp.day(of: Date())
            func blocksCounted(_ enterpriseID: UUID) async throws -> Int {
                await reporter.flush()
                return try await DNSDailyCounts.blocks(enterpriseID: enterpriseID, from: today, on: sql)[today] ?? 0
            }
            let at = ["@127.0.0.1", "-p", "\(udp)", "+time=3", "+tries=1"]

            // Nobody declares networks: loopback counts for the first enterprise.
            var answer = await dig(at + ["000.9.009.09.ekurbani.com"])
            #expect(answer.contains("status: NXDOMAIN"), "\(answer)")
            #expect(try await blocksCounted(server.enterpriseID) == 1)

            var reply = try await server.send(.PUT, "/api/v1/policy", token: owner, json: ["protectiveDNS": ["networks": ["10.0.0.0/8", "192.0.2.300"]]])
            #expect(reply.status == 400 && reply.errorField == "$.protectiveDNS.networks[1]", "\(reply.text)")
            reply = try await server.send(.PUT, "/api/v1/policy", token: owner, json: ["protectiveDNS": ["networks": ["10.0.0.0/8"]]])
            #expect(reply.status == 200, "\(reply.text)")
            // Loopback is in nobody's network now: refused, with the reason.
            let refused = try await Wait.until(within: 10) {
                answer = await dig(at + ["www.benign.example"])
                return answer.contains("status: REFUSED")
            }
            #expect(refused != nil && answer.contains("EDE: 18") && answer.contains("protectiveDNS.networks"), "\(answer)")

            // The branch claims an overlapping network: refused; loopback instead: its queries count for it.
            reply = try await server.send(.PUT, "/api/v1/policy", token: branch, json: ["protectiveDNS": ["networks": ["10.20.0.0/16"]]])
            #expect(reply.status == 409 && reply.errorField == "$.protectiveDNS.networks", "\(reply.text)")
            #expect(((reply.json["error"] as? [String: Any])?["message"] as? String)?.contains("overlaps 10.0.0.0/8") == true, "\(reply.text)")
            reply = try await server.send(.PUT, "/api/v1/policy", token: branch, json: ["protectiveDNS": ["networks": ["127.0.0.0/8"]]])
            #expect(reply.status == 200, "\(reply.text)")
            let served = try await Wait.until(within: 10) {
                answer = await dig(at + ["www.benign.example"])
                return answer.contains("status: NOERROR")
            }
            #expect(served != nil, "\(answer)")
            answer = await dig(at + ["login.000.9.009.09.ekurbani.com"])
            #expect(answer.contains("status: NXDOMAIN"), "\(answer)")
            #expect(try await blocksCounted(other.enterpriseID) == 1, "the block counts for the branch")
            #expect(try await blocksCounted(server.enterpriseID) == 1, "and not for the first enterprise")
        }
    }
}

/// The standalone agent reports content protection from the resolver the device really uses: the
/// probe name answered by OpenMTD's resolver, not by another one; no VPN is involved.
extension ProtectiveDNSTests {
    /// The device's system resolver pointed at one DNS server, asked with dig.
    struct DigResolver: SystemResolver {
        let port: Int
        func addresses(of host: String) async -> [String] {
            await dig(["@127.0.0.1", "-p", "\(port)", "+time=2", "+tries=1", "+short", host, "A"])
                .split(separator: "\n").map(String.init).filter { IPAddress.parse($0) != nil }
        }
    }

    @Test func aStandaloneAgentReportsContentProtectionFromTheResolverInUse() async throws {
        try await Self.withResolver { server, upstream, udp, _ in
            // The probe is answered by the resolver itself, never forwarded.
            let probe = ResolverProbe.name(serverHost: "127.0.0.1")
            #expect(await DigResolver(port: udp).addresses(of: probe) == [ResolverProbe.markerText])
            #expect(upstream.queriesReceived(for: probe) == 0)
            #expect(await DigResolver(port: upstream.port).addresses(of: probe).isEmpty, "another resolver does not know the name")

            func standalone(udid: String, resolvingThrough port: Int) throws -> Agent {
                let configuration = try AgentConfiguration.managedAppConfig(
                    ["DEVICE_UDID": udid, "GLOBAL_ENROLLMENT_CODE": server.enrollmentCode, "MDM": "Workspace ONE"], defaultServer: URL(string: server.baseURL))
                let folder = AgentSDKTests.Folder()
                return try Agent(configuration: configuration, options: Agent.Options(platform: .android), source: TemplateDeviceSource(AgentSDKTests.template()),
                                 credentials: folder.credentials, outbox: try folder.outbox(), state: folder.state, transport: URLSessionTransport(),
                                 resolver: DigResolver(port: port))
            }
            let protected = try standalone(udid: "dns-protected", resolvingThrough: udp)
            #expect(try await protected.checkIn().securityStatus == .secure)
            // Its DNS profile was removed: the device resolves through another resolver.
            let unprotected = try standalone(udid: "dns-unprotected", resolvingThrough: upstream.port)
            let answer = try await unprotected.checkIn()
            #expect(answer.securityStatus != .secure)
            let owner = try await server.login()
            let threats = try await server.send(.GET, "/api/v1/threats?classification=PCP_DISABLED", token: owner)
            let devices = (threats.json["items"] as? [[String: Any]])?.compactMap { $0["deviceId"] as? String } ?? []
            #expect(devices == [await unprotected.status().deviceID].compactMap { $0 }, "\(threats.text.prefix(500))")
        }
    }
}
