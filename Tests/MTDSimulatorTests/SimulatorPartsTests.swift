import Foundation
import MTDCore
@testable import MTDSimulator
import Testing

struct ScenarioTests {
    func write(_ text: String, ext: String = "yaml") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("scenario-\(UUID().uuidString).\(ext)")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test func readsYAMLAndJSON() throws {
        let yaml = try Scenario.load(write("""
        events:
          - {at: 5m, action: remove-stalkerware}
          - {at: 2m, action: install-stalkerware, share: 0.05}
        """))
        #expect(yaml.events == [.init(at: 120, action: .installStalkerware, share: 0.05), .init(at: 300, action: .removeStalkerware, share: nil)])
        let json = try Scenario.load(write(#"{"events":[{"at":"90s","action":"jailbreak","share":1}]}"#, ext: "json"))
        #expect(json.events == [.init(at: 90, action: .jailbreak, share: 1)])
        #expect(Scenario.duration("1.5h") == 5400)
        #expect(Scenario.duration("250ms") == 0.25)
        #expect(Scenario.duration("soon") == nil)
        // Numbers that parse but are no time at which a step can happen.
        #expect(Scenario.duration("inf") == nil)
        #expect(Scenario.duration("1e308h") == nil)
        #expect(Scenario.duration("nan") == nil)
    }

    @Test(arguments: [
        ("events:\n  - {at: 2m, action: install-stalkware, share: 0.1}", "$.events[0].action: unknown action \"install-stalkware\"; did you mean \"install-stalkerware\"?"),
        ("events:\n  - {at: 2m, action: jailbreak, share: 5}", "$.events[0].share: 5 is not a share between 0 and 1 (0.05 is 5 %)"),
        ("events:\n  - {action: jailbreak, share: 0.1}", "$.events[0].at: missing; when it happens, e.g. 90s, 2m or 1h"),
        ("events:\n  - {at: later, action: jailbreak, share: 0.1}", "$.events[0].at: \"later\" is not a duration; use 90s, 2m or 1h"),
        ("events:\n  - {at: 1m, action: visit-phishing}", "$.events[0].share: missing; which share of the fleet, e.g. 0.05"),
        ("events:\n  - {at: 1m, action: jailbreak, shares: 0.1}", "$.events[0].shares: unknown field; did you mean \"share\"?"),
        ("steps: []", "$.steps: unknown field; the scenario has only \"events\""),
    ]) func mistakesNameTheFileAndField(_ text: String, _ message: String) throws {
        let url = try write(text)
        do {
            _ = try Scenario.load(url)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.description == "\(url.path): \(message)")
        }
    }
}

struct FleetDataTests {
    let today = Timestamp.day("2026-11-27") ?? 0

    @Test func theShippedDataFeedsTheFleet() throws {
        let data = try FleetData.load(asOfDay: today)
        #expect(data.stalkerwarePackages.count > 100)
        #expect(data.stalkerwarePackages.contains("com.topspy"))
        #expect(data.phishingHosts.count > 1000)
        #expect(data.iosVersions.count > 50)
        #expect(data.iosCurrent.count == 2)
    }

    @Test func theSameSeedBuildsTheSameFleetAndSharesHold() throws {
        let data = try FleetData.load(asOfDay: today)
        var mix = FleetMix()
        mix.stalkerwareShare = 0.05
        let a = DeviceProfile.make(index: 7, prefix: "t", data: data, mix: mix, seed: 42, today: today)
        let b = DeviceProfile.make(index: 7, prefix: "t", data: data, mix: mix, seed: 42, today: today)
        #expect(a.template == b.template)
        #expect(a.udid == "t-000007")
        let fleet = (0..<10_000).map { DeviceProfile.make(index: $0, prefix: "t", data: data, mix: mix, seed: 42, today: today) }
        let stalkerware = Double(fleet.filter { $0.stalkerware != nil }.count) / 10_000
        let android = Double(fleet.filter { $0.platform == .android }.count) / 10_000
        let jailbroken = Double(fleet.filter { $0.template.posture?.compromiseIndicators != nil }.count) / 10_000
        #expect(abs(stalkerware - 0.05) < 0.01, "stalkerware share \(stalkerware)")
        #expect(abs(android - 0.6) < 0.02, "android share \(android)")
        #expect(abs(jailbroken - 0.01) < 0.005, "jailbreak share \(jailbroken)")
        #expect(fleet.filter { $0.phishingHost != nil }.allSatisfy { $0.mode == .standalone }, "only the standalone app sees web content")
    }
}
