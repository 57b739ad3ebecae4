import Foundation
import Testing

@Suite(.serialized) struct EvaluateCommandTests {
    let empty = try? CLI.temporaryFolder().path

    func evaluate(_ extra: [String]) throws -> CLI.Result {
        try CLI.run(["evaluate", "--data-dir", empty ?? "/nonexistent"] + extra)
    }

    func json(_ result: CLI.Result) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    @Test func stalkerwareDeviceFollowsTheJSONContract() throws {
        let result = try evaluate(["--as-of", "2026-11-20", "--json", CLI.example("checkins/stalkerware-android.json")])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try json(result)
        #expect(Set(output.keys) == ["findings", "risk", "securityStatus"])
        #expect(output["risk"] as? String == "HIGH")
        #expect(output["securityStatus"] as? String == "THREATS_HIGH")
        let findings = try #require(output["findings"] as? [[String: Any]])
        let classifications = Set(findings.compactMap { $0["classification"] as? String })
        #expect(classifications.isSuperset(of: ["SURVEILLANCEWARE", "SIDELOADED_APP", "USB_DEBUGGING_ENABLED", "OUT_OF_DATE_ASPL"]))
        for finding in findings {
            #expect(Set(finding.keys) == ["classification", "severity", "type", "evidence"])
        }
    }

    @Test func policyNoneSeveritiesAreStillListed() throws {
        let result = try evaluate(["--as-of", "2026-11-20", "--policy", CLI.example("policy.yaml"), "--json", CLI.example("checkins/stalkerware-android.json")])
        #expect(result.status == 0, "\(result.stderr)")
        let findings = try #require(try json(result)["findings"] as? [[String: Any]])
        let sideloaded = findings.first { $0["classification"] as? String == "SIDELOADED_APP" }
        #expect(sideloaded?["severity"] as? String == "NONE")
        let usb = findings.first { $0["classification"] as? String == "USB_DEBUGGING_ENABLED" }
        #expect(usb?["severity"] as? String == "MEDIUM")
    }

    @Test func embeddedCleanDeviceIsSecure() throws {
        let result = try evaluate(["--as-of", "2026-11-20", "--json", CLI.example("checkins/clean-iphone.json")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try json(result)["securityStatus"] as? String == "SECURE")
    }

    @Test func tableOutputIsReadable() throws {
        let result = try evaluate(["--as-of", "2026-11-20", CLI.example("checkins/phishing-standalone.json")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Security status: THREATS_HIGH"))
        #expect(result.stdout.contains("PHISHING_CONTENT"))
        #expect(result.stdout.contains("SPYWARE"))
    }

    @Test func checkInFromStandardInput() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: CLI.example("checkins/clean-iphone.json")))
        let result = try CLI.run(["evaluate", "--data-dir", empty ?? "", "--as-of", "2026-11-20", "--json", "-"], stdin: data)
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test(arguments: [
        (#"{"schemaVersion":1,"agent":"#, "$: not a valid document"),
        (#"{"schemaVersion":1,"agent":{"mode":"EMBEDDED"},"device":{"platform":"IOS","osVersion":7}}"#, "$.device.osVersion"),
        (#"{"schemaVersion":1,"agent":{"mode":"HUB"},"device":{"platform":"IOS","osVersion":"26"}}"#, "$.agent.mode: unknown value \"HUB\""),
        (#"{"schemaVersion":1,"agent":{"mode":"EMBEDDED"}}"#, "$.device: required field is missing"),
        (#"[1,2,3]"#, "$"),
    ])
    func badCheckInsExitWithCodeTwoAndNameTheField(document: String, expected: String) throws {
        let folder = try CLI.temporaryFolder()
        let file = folder.appendingPathComponent("bad.json")
        try Data(document.utf8).write(to: file)
        let result = try evaluate(["--json", file.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("bad.json: \(expected)"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func oversizedCheckInIsRefused() throws {
        let folder = try CLI.temporaryFolder()
        let file = folder.appendingPathComponent("huge.json")
        try Data(repeating: UInt8(ascii: " "), count: 5 * 1024 * 1024).write(to: file)
        let result = try evaluate([file.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("larger than the limit"))
    }

    @Test func badPolicyAndArgumentsAreNamed() throws {
        let folder = try CLI.temporaryFolder()
        let policy = folder.appendingPathComponent("policy.yaml")
        try Data("severities:\n  NO_DEVICE_LOCK: SEVERE\n".utf8).write(to: policy)
        let result = try evaluate(["--policy", policy.path, CLI.example("checkins/clean-iphone.json")])
        #expect(result.status == 2)
        #expect(result.stderr.contains("policy.yaml: $.severities.NO_DEVICE_LOCK"), "\(result.stderr)")

        let badDate = try evaluate(["--as-of", "20-11-2026", CLI.example("checkins/clean-iphone.json")])
        #expect(badDate.status == 2)
        #expect(badDate.stderr.contains("--as-of"))

        let missing = try evaluate(["/no/such/checkin.json"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("/no/such/checkin.json: cannot be read: no such file"))
    }
}
