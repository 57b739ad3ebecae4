import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `openmtd uem serve` and `openmtd uem enroll`, run as a user would, against each other.
@Suite(.serialized) struct UEMCommandTests {
    @Test func enrollsDevicesInAStandaloneUEM() async throws {
        let folder = try CLI.temporaryFolder()
        let port = Int.random(in: 20_000...40_000)
        let dataDirectory = folder.appendingPathComponent("uem").path
        let uem = BackgroundCLI(["uem", "serve", "--port", "\(port)", "--data-dir", dataDirectory], port: port,
                                environment: ["OPENMTD_UEM_ADMIN_PASSWORD": "cli-uem-admin-pass"])
        try uem.start()
        defer { uem.stop() }
        let code = try #require(try await uem.firstStartSecret("uem_tenant_code", dataDirectory: dataDirectory), "no tenant code in the first-start secrets:\n\(uem.log)")
        #expect(!uem.log.contains(code), "the tenant code must not be logged")
        let url = "http://127.0.0.1:\(uem.port)/API"
        let secret = ["OPENMTD_UEM_PASSWORD": "cli-uem-admin-pass"]

        var result = try CLI.run(["uem", "enroll", "--url", url, "--tenant-code", code, "--udid", "cli-udid-1", "--platform", "Apple", "--user", "jo",
                                  "--email", "jo@example.com", "--model", "iPhone 15", "--os", "18.1"], environment: secret)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("enrolled cli-udid-1: Id "))

        result = try CLI.run(["uem", "enroll", "--url", url, "--tenant-code", code, "--count", "120", "--prefix", "fleet"], environment: secret)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "enrolled 120 devices with prefix fleet\n")
        #expect(result.stderr.contains("enrolled 100/120"), "progress is shown")
        #expect(result.stderr.contains("enrolled 120/120"))

        result = try CLI.run(["uem", "enroll", "--url", url, "--tenant-code", code, "--udid", "x", "--user", "jo"], environment: ["OPENMTD_UEM_PASSWORD": "wrong"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("check --username and the password"), "\(result.stderr)")
        result = try CLI.run(["uem", "enroll", "--url", url, "--tenant-code", code, "--user", "jo"], environment: secret)
        #expect(result.status == 2)
        #expect(result.stderr.contains("give --udid for one device, or --count for generated ones"))
        result = try CLI.run(["uem", "enroll", "--url", url, "--tenant-code", code, "--udid", "x", "--user", "jo", "--platform", "Windows"], environment: secret)
        #expect(result.status == 2)
        #expect(result.stderr.contains("--platform must be Apple or Android, not Windows"))

        // A path the UEM does not serve is an HTTP 404 in Workspace ONE's error body, not a closed connection.
        var request = URLRequest(url: try #require(URL(string: url + "/mdm/nothing/here")))
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        let (body, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 404)
        let error = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any], "\(String(decoding: body, as: UTF8.self))")
        #expect(error["errorCode"] as? Int == 404 && error["activityId"] is String)
        #expect((error["message"] as? String)?.contains("GET /API/mdm/nothing/here is not a resource") == true, "\(error)")
    }

    @Test func serveRefusesAnEgressRuleItCannotRead() throws {
        var result = try CLI.run(["serve", "--port", "18444", "--egress-allow", "uem.example.com", "--egress-allow", "10.0.0.0/33"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--egress-allow: \"10.0.0.0/33\" is neither a network"), "\(result.stderr)")
        result = try CLI.run(["serve", "--port", "18444"], environment: ["OPENMTD_EGRESS_DENY": "10.0.0.0/8,bad_host"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("environment OPENMTD_EGRESS_DENY: \"bad_host\""), "\(result.stderr)")
    }

    @Test func serveRefusesHalfATLSSetup() throws {
        let result = try CLI.run(["serve", "--port", "18443", "--tls-certificate", "/nonexistent/cert.pem"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("TLS needs both --tls-certificate and --tls-key"), "\(result.stderr)")
    }
}
