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

    /// `--server` and `--device`: the running server decides under its policy, and says what the
    /// device's query does; credentials come from the environment, errors say what to do.
    @Test func theServerExplainsADevicesQuery() async throws {
        let folder = try CLI.temporaryFolder()
        let port = Int.random(in: 20_000...40_000)
        let dataDirectory = folder.appendingPathComponent("server").path
        let password = "cli-admin-password-2"
        let server = BackgroundCLI(["serve", "--port", "\(port)", "--data-dir", dataDirectory], port: port,
                                   environment: ["OPENMTD_ADMIN_PASSWORD": password])
        try server.start()
        defer { server.stop() }
        let code = try #require(try await server.firstStartSecret("enrollment_code", dataDirectory: dataDirectory), "no enrollment code:\n\(server.log)")
        let config = folder.appendingPathComponent("app.json")
        try #"{"mtdSettings":{"isEnabled":true,"enrollmentCode":"\#(code)","serverURL":"http://127.0.0.1:\#(port)"}}"#.write(to: config, atomically: true, encoding: .utf8)
        let template = folder.appendingPathComponent("device.json")
        try #"{"schemaVersion":1,"agent":{"mode":"STANDALONE"},"device":{"platform":"ANDROID","osVersion":"16","securityPatchLevel":"2026-11-01"},"posture":{"passcodeSet":true}}"#
            .write(to: template, atomically: true, encoding: .utf8)
        let activation = try CLI.run(["agent", "--config", config.path, "--template", template.path, "--udid", "cli-dns-1",
                                      "--state-dir", folder.appendingPathComponent("agent").path, "--once"])
        #expect(activation.status == 0, "\(activation.stderr)")
        let deviceID = try #require(activation.stderr.range(of: "[0-9a-f]{8}-[0-9a-f-]{27}", options: .regularExpression).map { String(activation.stderr[$0]) },
                                    "\(activation.stderr)")
        let base = "http://127.0.0.1:\(port)"

        var result = try CLI.run(["dns", "query", "login.000.9.009.09.ekurbani.com", "--server", base, "--device", deviceID],
                                 environment: ["OPENMTD_ADMIN_PASSWORD": password, "OPENMTD_API_TOKEN": ""])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("login.000.9.009.09.ekurbani.com A: BLOCK"), "\(result.stdout)")
        #expect(result.stdout.contains("indicator: 000.9.009.09.ekurbani.com (a parent domain of the name)"))
        #expect(result.stdout.contains("policy:    the default policy (never edited) in force on \(base) (this server does not run the resolver"), "\(result.stdout)")
        #expect(result.stdout.contains("device:    \(deviceID)"))
        #expect(result.stdout.contains("token:     active; its queries are the device's, none seen yet"), "\(result.stdout)")
        #expect(result.stdout.contains("reported:  a query opens or refreshes a PHISHING_CONTENT threat on this device"), "\(result.stdout)")

        result = try CLI.run(["dns", "query", "example.org", "--server", base, "--json"], environment: ["OPENMTD_ADMIN_PASSWORD": password, "OPENMTD_API_TOKEN": ""])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        #expect(object["action"] as? String == "ALLOW")
        #expect(object["policyVersion"] as? Int == 0)

        // Mistakes: no credentials, a wrong password, an unknown device, a device id that is not one.
        result = try CLI.run(["dns", "query", "example.org", "--device", deviceID, "--server", base], environment: ["OPENMTD_ADMIN_PASSWORD": "", "OPENMTD_API_TOKEN": ""])
        #expect(result.status == 2)
        #expect(result.stderr.contains("set OPENMTD_API_TOKEN"), "\(result.stderr)")
        result = try CLI.run(["dns", "query", "example.org", "--server", base], environment: ["OPENMTD_ADMIN_PASSWORD": "wrong-password", "OPENMTD_API_TOKEN": ""])
        #expect(result.status == 1)
        #expect(result.stderr.contains("answered 401") && result.stderr.contains("check OPENMTD_API_TOKEN or the admin password"), "\(result.stderr)")
        result = try CLI.run(["dns", "query", "example.org", "--server", base, "--device", UUID().uuidString.lowercased()],
                             environment: ["OPENMTD_ADMIN_PASSWORD": password, "OPENMTD_API_TOKEN": ""])
        #expect(result.status == 1)
        #expect(result.stderr.contains("answered 404"), "\(result.stderr)")
        result = try CLI.run(["dns", "query", "example.org", "--device", "42"], environment: ["OPENMTD_ADMIN_PASSWORD": password])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--device 42 is not a device id"), "\(result.stderr)")
        result = try CLI.run(["dns", "query", "example.org", "--server", "http://127.0.0.1:1"], environment: ["OPENMTD_ADMIN_PASSWORD": password, "OPENMTD_API_TOKEN": ""])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot reach http://127.0.0.1:1"), "\(result.stderr)")
    }
}
