import Foundation
import MTDCore

/// A small, fast, seedable random generator (SplitMix64): the same seed builds the same fleet.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func chance(_ probability: Double) -> Bool {
        Double.random(in: 0..<1, using: &self) < probability
    }
}

/// What kind of fleet to build: the shares of devices in each risky condition.
public struct FleetMix: Sendable, Equatable, Codable {
    public var androidShare = 0.6
    public var standaloneShare = 0.3
    public var stalkerwareShare = 0.02
    public var phishingShare = 0.05
    public var jailbreakShare = 0.01
    public var outdatedShare = 0.1

    public init() {}
}

/// One simulated device: identity and the check-in template its agent reports from.
public struct DeviceProfile: Sendable {
    public var index: Int
    public var udid: String
    public var userName: String
    public var email: String
    public var serialNumber: String
    public var mode: DeploymentMode
    public var template: CheckIn
    /// Benign hosts the device's apps contact at the start.
    public var visits: [String]
    /// A phishing site the device visits at the start (standalone devices only: embedded agents see no web content).
    public var phishingHost: String?
    public var stalkerware: String?

    public var platform: Platform { template.device.platform }

    /// Builds device `index` of a fleet. Pure: the same data, mix, seed and day give the same device.
    public static func make(index: Int, prefix: String, data: FleetData, mix: FleetMix, seed: UInt64, today: Int) -> DeviceProfile {
        var random = SeededRandom(seed: seed &+ UInt64(index) &* 0x2545_F491_4F6C_DD1D)
        let android = random.chance(mix.androidShare)
        let mode: DeploymentMode = random.chance(mix.standaloneShare) ? .standalone : .embedded
        let outdated = random.chance(mix.outdatedShare)
        let device: DeviceInfo
        var apps: [InstalledApp]
        if android {
            let versions = data.androidVersions
            let version = outdated ? versions[min(versions.count - 1, 3 + Int.random(in: 0...2, using: &random))] : versions[Int.random(in: 0...1, using: &random)]
            // Patch levels: the first of a recent month, or a year and more behind for outdated devices.
            let monthsBehind = outdated ? Int.random(in: 12...30, using: &random) : Int.random(in: 0...2, using: &random)
            device = DeviceInfo(platform: .android, osVersion: version, securityPatchLevel: Self.patchLevel(today: today, monthsBehind: monthsBehind),
                                manufacturer: "Google", model: FleetData.androidModels.randomElement(using: &random))
            apps = FleetData.benignAndroidApps.shuffled(using: &random).prefix(Int.random(in: 6...12, using: &random)).map {
                InstalledApp(id: $0, version: "\(Int.random(in: 1...30, using: &random)).\(Int.random(in: 0...9, using: &random))", source: .playStore)
            }
        } else {
            let versions = data.iosVersions
            let current = data.iosCurrent
            // Up-to-date iPhones run the newest release of the newest major (most) or of the previous one.
            let version = outdated ? versions[min(versions.count - 1, versions.count / 2 + Int.random(in: 0...(versions.count / 2), using: &random))]
                : (current.count > 1 && random.chance(0.2) ? current[1] : current.first ?? versions[0])
            device = DeviceInfo(platform: .ios, osVersion: version, model: FleetData.iosModels.randomElement(using: &random))
            apps = FleetData.benignIOSApps.shuffled(using: &random).prefix(Int.random(in: 5...10, using: &random)).map {
                InstalledApp(id: $0, version: "\(Int.random(in: 1...30, using: &random)).\(Int.random(in: 0...9, using: &random))", source: .appStore)
            }
        }
        var stalkerware: String?
        if android, random.chance(mix.stalkerwareShare / max(mix.androidShare, 0.01)), let sample = data.stalkerwareSamples.randomElement(using: &random) {
            stalkerware = sample.package
            apps.append(sample.app)
        }
        var posture = Posture(passcodeSet: random.chance(0.97), storageEncrypted: true)
        if random.chance(mix.jailbreakShare) {
            posture.compromiseIndicators = [android ? "SU_BINARY" : "CYDIA_INSTALLED"]
        }
        let visits = (0..<Int.random(in: 2...5, using: &random)).compactMap { _ in FleetData.benignHosts.randomElement(using: &random) }
        var phishingHost: String?
        if mode == .standalone, random.chance(mix.phishingShare / max(mix.standaloneShare, 0.01)) {
            phishingHost = data.phishingHosts.randomElement(using: &random)
        }
        let tag = String(format: "%06d", index)
        let template = CheckIn(agent: AgentInfo(mode: mode), device: device, posture: posture,
                               apps: AppInventory(inventoryVersion: 0, complete: true, installed: apps))
        return DeviceProfile(index: index, udid: "\(prefix)-\(tag)", userName: "\(prefix)-user-\(tag)", email: "\(prefix)-user-\(tag)@example.com",
                             serialNumber: "\(prefix.uppercased())\(tag)", mode: mode, template: template, visits: visits,
                             phishingHost: phishingHost, stalkerware: stalkerware)
    }

    static func patchLevel(today: Int, monthsBehind: Int) -> String {
        let current = Timestamp.string(fromDay: today)
        let parts = current.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return current }
        var year = parts[0], month = parts[1] - monthsBehind
        while month < 1 {
            month += 12
            year -= 1
        }
        return String(format: "%04d-%02d-01", year, month)
    }
}
