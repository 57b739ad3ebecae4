import Foundation
import Testing

/// `openmtd dns query`: the resolver's decision explained from the shipped intelligence and a policy.
@Suite(.serialized) struct DNSCommandTests {
    let empty = try? CLI.temporaryFolder().path

    func query(_ extra: [String]) throws -> CLI.Result {
        try CLI.run(["dns", "query", "--quiet", "--data-dir", empty ?? "/nonexistent"] + extra)
    }

    @Test func aPhishingSubdomainIsExplainedWithItsIndicatorAndAnswer() throws {
        let result = try query(["login.000.9.009.09.ekurbani.com"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("login.000.9.009.09.ekurbani.com A: BLOCK"))
        #expect(result.stdout.contains("PHISHING_CONTENT"))
        #expect(result.stdout.contains("indicator: 000.9.009.09.ekurbani.com (a parent domain of the name)"))
        #expect(result.stdout.contains("blocklistproject:phishing"))
        #expect(result.stdout.contains("NXDOMAIN") && result.stdout.contains("Extended DNS Error 17 (Filtered)"))
    }

    @Test func thePolicyDecidesTheActionAndTheAnswer() throws {
        let folder = try CLI.temporaryFolder()
        let policy = folder.appendingPathComponent("policy.yaml")
        try Data("""
            contentDenyList: [casino.example]
            protectiveDNS:
              allowList: [1topspy.com]
              blockedAnswer: NULL_ADDRESS
            """.utf8).write(to: policy)
        var result = try query(["--policy", policy.path, "--type", "AAAA", "--json", "www.casino.example"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["action"] as? String == "BLOCK")
        #expect(object["classification"] as? String == "DENYLISTED_CONTENT")
        #expect(object["source"] as? String == "policy")
        #expect((object["extendedError"] as? [String: Any])?["code"] as? Int == 15)
        #expect((object["answer"] as? String)?.hasPrefix("NOERROR with ::") == true)
        result = try query(["--policy", policy.path, "api.1topspy.com"])
        #expect(result.stdout.contains("ALLOW") && result.stdout.contains("allow list entry 1topspy.com"), "\(result.stdout)")
    }

    @Test func badInputNamesTheProblem() throws {
        var result = try query(["a..b"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("is not a DNS name"))
        result = try query(["--type", "BOGUS", "example.com"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--type BOGUS"))
    }
}
