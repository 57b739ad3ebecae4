import Foundation
import Testing

/// `openmtd agent` against `openmtd serve`, both run as a user would.
@Suite(.serialized) struct AgentCommandTests {
    @Test func oneAgentActivatesChecksInAndCarriesOnAfterARestart() async throws {
        let folder = try CLI.temporaryFolder()
        let port = Int.random(in: 20_000...40_000)
        let dataDirectory = folder.appendingPathComponent("server").path
        let server = BackgroundCLI(["serve", "--port", "\(port)", "--data-dir", dataDirectory], port: port,
                                   environment: ["OPENMTD_ADMIN_PASSWORD": "cli-admin-password-1", "OPENMTD_EVALUATE_AS_OF": "2026-12-01"])
        try server.start()
        defer { server.stop() }
        let code = try #require(try await server.firstStartSecret("enrollment_code", dataDirectory: dataDirectory), "no enrollment code in the first-start secrets:\n\(server.log)")
        #expect(!server.log.contains(code), "the enrollment code must not be logged")

        let config = folder.appendingPathComponent("hub.json")
        try #"{"mtdSettings":{"isEnabled":true,"enrollmentCode":"\#(code)","serverURL":"http://127.0.0.1:\#(port)"}}"#.write(to: config, atomically: true, encoding: .utf8)
        let template = folder.appendingPathComponent("device.json")
        try """
        {"schemaVersion":1,"agent":{"mode":"EMBEDDED"},"device":{"platform":"ANDROID","osVersion":"16","securityPatchLevel":"2026-11-01"},
         "posture":{"passcodeSet":true},"apps":{"inventoryVersion":0,"complete":true,"installed":[{"id":"com.apspy.app","source":"SIDELOADED"}]}}
        """.write(to: template, atomically: true, encoding: .utf8)
        let state = folder.appendingPathComponent("agent").path
        let arguments = ["agent", "--config", config.path, "--template", template.path, "--udid", "cli-agent-1", "--state-dir", state, "--once"]

        var result = try CLI.run(arguments)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "checked in: THREATS_HIGH, next check-in in 900 s\n")
        #expect(result.stderr.contains("activated as device"))
        // A second run uses the stored credential: no new activation.
        result = try CLI.run(arguments)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("activated as device"), "\(result.stderr)")
        let mode = try FileManager.default.attributesOfItem(atPath: state + "/credential.json")[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)

        // Configuration mistakes name the file and the key; a disabled MTD does nothing.
        try #"{"mtdSettings":{"isEnabled":"yes","enrollmentCode":"X"}}"#.write(to: config, atomically: true, encoding: .utf8)
        result = try CLI.run(arguments)
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(config.path): agent configuration: mtdSettings.isEnabled must be true or false, not \"yes\""), "\(result.stderr)")
        try #"{"mtdSettings":{"isEnabled":false}}"#.write(to: config, atomically: true, encoding: .utf8)
        result = try CLI.run(arguments)
        #expect(result.status == 0)
        #expect(result.stdout.contains("the MTD is disabled"))
    }
}
