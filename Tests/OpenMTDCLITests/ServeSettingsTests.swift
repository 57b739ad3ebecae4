import Foundation
import Testing

/// `openmtd serve` refuses settings it would turn into a trap (a negative or huge sleep, an empty
/// bucket) before it opens anything, and says which setting, from where, and what it accepts.
@Suite struct ServeSettingsTests {
    static func serve(config: String? = nil, environment: [String: String] = [:]) throws -> CLI.Result {
        let folder = try CLI.temporaryFolder()
        var arguments = ["serve", "--port", "\(Int.random(in: 20_000...40_000))", "--data-dir", folder.appendingPathComponent("data").path]
        if let config {
            let file = folder.appendingPathComponent("openmtd.yaml")
            try Data(config.utf8).write(to: file)
            arguments += ["--config", file.path]
        }
        return try CLI.run(arguments, environment: environment)
    }

    @Test(arguments: [
        ("sweepIntervalSeconds: -5\n", "sweepIntervalSeconds: must be from 1 to 86400 s, got -5"),
        ("sweepIntervalSeconds: 9223372036854775807\n", "sweepIntervalSeconds: must be from 1 to 86400 s, got 9223372036854775807"),
        ("uemDeviceSyncSeconds: 0\n", "uemDeviceSyncSeconds: must be from 1 to 604800 s, got 0"),
        ("uemRepairSeconds: 99999999999\n", "uemRepairSeconds: must be from 1 to 604800 s, got 99999999999"),
        ("uemCoalesceMilliseconds: -1\n", "uemCoalesceMilliseconds: must be from 0 to 60000 ms, got -1"),
        ("activationAttemptsPerMinute: 0\n", "activationAttemptsPerMinute): must be from 1 to 1000000000, got 0"),
        ("checkInIntervalSeconds: 5\n", "checkInIntervalSeconds): must be from 10 to 604800 s, got 5"),
    ])
    func outOfRangeSettingsInTheFileAreRefusedByName(_ config: String, _ message: String) throws {
        let result = try Self.serve(config: config)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"), "\(result.stderr)")
    }

    @Test func outOfRangeSettingsInTheEnvironmentAreRefusedByName() throws {
        let result = try Self.serve(environment: ["OPENMTD_UNREACHABLE_AFTER": "-1", "OPENMTD_DISCONNECTED_AFTER": "60"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("OPENMTD_UNREACHABLE_AFTER"), "\(result.stderr)")
        #expect(result.stderr.contains("got -1"), "\(result.stderr)")
    }

    /// DNS upstreams pass the egress policy like every other address the server is given: cloud
    /// metadata addresses always fail, and the deny list is honoured, with the flag that fixes it named.
    @Test(arguments: [
        (["--dns-upstream", "udp://169.254.169.254:53"], "the egress policy refuses --dns-upstream udp://169.254.169.254:53"),
        (["--dns-upstream", "udp://127.0.0.1:53", "--egress-deny", "127.0.0.0/8"], "127.0.0.1 resolves to 127.0.0.1, which is on the egress deny list"),
    ])
    func dnsUpstreamsPassTheEgressPolicy(_ extra: [String], _ message: String) throws {
        let folder = try CLI.temporaryFolder()
        let result = try CLI.run(["serve", "--port", "\(Int.random(in: 20_000...40_000))", "--data-dir", folder.appendingPathComponent("data").path,
                                  "--dns-udp-port", "0"] + extra)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.contains("allow it with --egress-allow"), "\(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"), "\(result.stderr)")
    }
}
