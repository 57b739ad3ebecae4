import MTDCore
import Testing

struct EgressPolicyTests {
    func address(_ text: String) throws -> IPAddress { try #require(IPAddress.parse(text), "\(text)") }

    /// A byte-taking String initializer once turned 127.0.0.1 into 127.000.000.001 here.
    @Test func addressesPrintAsTheyAreWritten() {
        #expect(IPAddress.parse("127.0.0.1")?.description == "127.0.0.1")
        #expect(IPAddress.parse("10.20.3.4")?.description == "10.20.3.4")
    }

    @Test func addressesAndNetworksParse() throws {
        #expect(try address("10.1.2.3").bytes == [10, 1, 2, 3])
        #expect(try address("::1").bytes == Array(repeating: 0, count: 15) + [1])
        #expect(try address("[fe80::1]").bytes.prefix(2) == [0xfe, 0x80])
        #expect(try address("2001:db8::10.0.0.1").bytes.suffix(4) == [10, 0, 0, 1])
        // An IPv4-mapped IPv6 address is its IPv4 address, so IPv4 rules hold for it.
        #expect(try address("::ffff:169.254.169.254").bytes == [169, 254, 169, 254])
        for bad in ["", "1.2.3", "1.2.3.256", "01234.1.1.1", "1::2::3", "12345::", ":", "::g", "1:2:3:4:5:6:7:8:9", String(repeating: "1:", count: 40)] {
            #expect(IPAddress.parse(bad) == nil, "\(bad)")
        }
        #expect(IPNetwork.parse("1.2.3.4/33") == nil)
        #expect(IPNetwork.parse("::/129") == nil)
        let network = try #require(IPNetwork.parse("10.0.0.0/8"))
        #expect(network.contains(try address("10.255.0.1")))
        #expect(!network.contains(try address("11.0.0.1")))
        #expect(!network.contains(try address("::1")))
        #expect(try #require(IPNetwork.parse("fe80::/10")).contains(try address("febf::1")))
        #expect(try #require(IPNetwork.parse("0.0.0.0/0")).contains(try address("8.8.8.8")))
    }

    @Test func metadataAndLinkLocalAreAlwaysRefused() throws {
        let open = EgressPolicy()
        #expect(open.decide(host: "uem.example.com", addresses: [try address("203.0.113.7")]) == .allowed)
        for (host, resolved) in [("169.254.169.254", "169.254.169.254"), ("rebinding.example", "169.254.1.1"), ("v6.example", "fe80::1"),
                                 ("aws6.example", "fd00:ec2::254"), ("mapped.example", "::ffff:169.254.169.254")] {
            guard case .refused(let reason) = open.decide(host: host, addresses: [try address(resolved)]) else {
                Issue.record("\(host) → \(resolved) was allowed")
                continue
            }
            #expect(reason.contains("deny list"), "\(reason)")
        }
        #expect(open.decide(host: "metadata.google.internal", addresses: [try address("203.0.113.7")]) != .allowed)
        // An allow list cannot open them up either.
        let permissive = EgressPolicy(allow: [.network(try #require(IPNetwork.parse("0.0.0.0/0")))])
        #expect(permissive.decide(host: "169.254.169.254", addresses: [try address("169.254.169.254")]) != .allowed)
        #expect(open.decide(host: "nowhere.example", addresses: []) != .allowed)
    }

    @Test func allowAndDenyListsDecide() throws {
        guard case .success(let allow) = EgressPolicy.rules("10.0.0.0/8, *.awmdm.com ::1"),
              case .success(let deny) = EgressPolicy.rules("10.9.0.0/16") else {
            Issue.record("rules did not parse")
            return
        }
        let policy = EgressPolicy(allow: allow, deny: deny)
        #expect(policy.decide(host: "as1234.awmdm.com", addresses: [try address("203.0.113.7")]) == .allowed)
        #expect(policy.decide(host: "10.1.1.1", addresses: [try address("10.1.1.1")]) == .allowed)
        #expect(policy.decide(host: "10.9.1.1", addresses: [try address("10.9.1.1")]) != .allowed)
        // Every address a name resolves to must be allowed.
        #expect(policy.decide(host: "mixed.example", addresses: [try address("10.1.1.1"), try address("192.0.2.1")]) != .allowed)
        #expect(policy.decide(host: "awmdm.com.evil.example", addresses: [try address("192.0.2.1")]) != .allowed)
        #expect(EgressPolicy.rules("bad_name") == .failure(EgressRuleError(entry: "bad_name")))
    }
}
