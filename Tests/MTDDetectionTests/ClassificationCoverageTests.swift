import Foundation
import MTDCore
import MTDDetection
import MTDIntel
import Testing

/// One positive and one negative check-in for every classification a detector produces.
@Suite struct ClassificationCoverageTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var classification: ThreatClassification
        var positive: @Sendable (inout CheckIn) -> Void
        /// A near miss: the closest input that must not raise the classification.
        var negative: @Sendable (inout CheckIn) -> Void
        var mode: DeploymentMode = .standalone
        var platform: Platform = .android
        var policy: Policy = Policy()
        var testDescription: String { classification.rawValue }
    }

    /// App classifications that come from imported app intelligence rather than shipped lists.
    static let importedAppClassifications: [ThreatClassification] = [
        .adware, .appDropper, .backdoor, .bot, .chargeware, .clickFraud, .exploit, .spam, .tollFraud, .trojan, .vulnerability, .worm,
    ]

    /// Shipped intelligence plus an imported app feed (one app per classification) and an
    /// offensive-content host list, loaded through the same import formats users have.
    static let intelligence: ThreatIntelligence? = {
        guard let root = IntelligenceLoader.bundledDirectory else { return nil }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("openmtd-coverage-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var csv = "classification,id,signer,sha256,label\n"
        for classification in importedAppClassifications {
            csv += "\(classification.rawValue),com.test.\(classification.rawValue.lowercased()),,,Test \(classification.rawValue)\n"
        }
        let manifest = IntelligenceManifest(files: [
            IntelligenceFileEntry(file: "apps.csv", format: .appCSV, id: "test-apps", name: "Test app feed", classification: nil),
            IntelligenceFileEntry(file: "offensive.txt", format: .hostList, id: "test-offensive", name: "Test offensive list", classification: .offensiveContent),
        ])
        do {
            try Data(csv.utf8).write(to: folder.appendingPathComponent("apps.csv"))
            try Data("# offensive\noffensive.example\n".utf8).write(to: folder.appendingPathComponent("offensive.txt"))
            try JSONEncoder().encode(manifest).write(to: folder.appendingPathComponent("manifest.json"))
            return try IntelligenceLoader.load(directory: root, importedDirectory: folder)
        } catch {
            return nil
        }
    }()

    static func app(_ app: InstalledApp) -> @Sendable (inout CheckIn) -> Void {
        { $0.apps?.installed?.append(app) }
    }

    static let truthSpySigner = HexDigest("31A6ECECD97CF39BC4126B8745CD94A7C30BF81C")

    static let cases: [Case] = {
        var cases: [Case] = [
            Case(classification: .noDeviceLock, positive: { $0.posture?.passcodeSet = false }, negative: { $0.posture?.passcodeSet = nil }),
            Case(classification: .unencrypted, positive: { $0.posture?.storageEncrypted = false }, negative: { $0.posture?.storageEncrypted = nil }),
            Case(classification: .rootJailbreak, positive: { $0.posture?.compromiseIndicators = ["/system/xbin/su"] }, negative: { $0.posture?.compromiseIndicators = [] }),
            Case(classification: .accessControlViolation, positive: { $0.posture?.compromiseIndicators = ["frida-server listening on 27042"] },
                 negative: { $0.posture?.compromiseIndicators = ["/system/xbin/su"] }),
            Case(classification: .developerModeEnabled, positive: { $0.posture?.developerModeEnabled = true }, negative: { $0.posture?.developerModeEnabled = nil }),
            Case(classification: .usbDebuggingEnabled, positive: { $0.posture?.usbDebuggingEnabled = true }, negative: { $0.posture?.usbDebuggingEnabled = nil }),
            Case(classification: .unknownSourcesEnabled,
                 positive: { $0.device = DeviceInfo(platform: .android, osVersion: "7.1"); $0.posture?.unknownSourcesEnabled = true },
                 negative: { $0.device = DeviceInfo(platform: .android, osVersion: "8.0", apiLevel: 26); $0.posture?.unknownSourcesEnabled = true }),
            Case(classification: .vpnNotEnabled, positive: { $0.posture?.vpnPermissionGranted = false }, negative: { $0.posture?.vpnPermissionGranted = nil }),
            Case(classification: .pcpDisabled, positive: { $0.posture?.contentProtectionEnabled = false }, negative: { $0.posture?.contentProtectionEnabled = true }),
            Case(classification: .nonAppStoreSigner,
                 positive: { $0.posture?.trustedSigningIdentities = [SigningIdentity(name: "Shady Apps Ltd", teamId: "ZZZ999")] },
                 negative: { $0.posture?.trustedSigningIdentities = [SigningIdentity(name: "Example Corp", teamId: "ABCDE12345")] },
                 platform: .ios, policy: Policy(allowedEnterpriseSigners: [SignerRule(teamId: "ABCDE12345")])),
            Case(classification: .outOfDateOS,
                 positive: { $0.device = DeviceInfo(platform: .ios, osVersion: "18.6", model: "iPhone16,1") },
                 negative: { $0.device = DeviceInfo(platform: .ios, osVersion: "18.7.10", model: "iPhone16,1") }, platform: .ios),
            Case(classification: .outOfDateASPL,
                 positive: { $0.device.securityPatchLevel = "2026-05-01" }, negative: { $0.device.securityPatchLevel = "2026-09-01" }),
            Case(classification: .surveillanceware,
                 positive: app(InstalledApp(id: "com.apspy.app", source: .sideloaded)), negative: app(InstalledApp(id: "com.apspy.application"))),
            Case(classification: .spyware,
                 positive: { $0.activity?.append(NetworkActivity(app: "com.x", host: "cdn.weather4free.com")) },
                 negative: { $0.activity?.append(NetworkActivity(app: "com.x", host: "weather4free.org")) }),
            Case(classification: .riskware, positive: app(InstalledApp(id: "com.life360.android.safetymapd")), negative: app(InstalledApp(id: "com.life360.android"))),
            Case(classification: .rootEnabler, positive: app(InstalledApp(id: "com.topjohnwu.magisk")), negative: app(InstalledApp(id: "com.topjohnwu"))),
            Case(classification: .virus,
                 positive: app(InstalledApp(id: "com.eicar.test", sha256: HexDigest("275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"))),
                 negative: app(InstalledApp(id: "com.eicar.test", sha256: HexDigest("375a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f")))),
            Case(classification: .denylistedApp,
                 positive: app(InstalledApp(id: "com.zhiliaoapp.musically")), negative: app(InstalledApp(id: "com.zhiliaoapp.other")),
                 policy: Policy(apps: AppRules(deny: [AppRule(id: "com.zhiliaoapp.musically")]))),
            Case(classification: .sideloadedApp,
                 positive: app(InstalledApp(id: "org.example.tool", source: .sideloaded)),
                 negative: app(InstalledApp(id: "com.example.internal.tool", source: .sideloaded)),
                 policy: Policy(apps: AppRules(allow: [AppRule(id: "com.example.internal.tool")]))),
            Case(classification: .activeMITM,
                 positive: { $0.network?.tlsProbes = [TLSProbe(host: "api.example.com", expectedSpkiSha256: "AAAA", observedSpkiSha256: "BBBB")] },
                 negative: { $0.network?.tlsProbes = [TLSProbe(host: "api.example.com", expectedSpkiSha256: "AAAA=", observedSpkiSha256: "AAAA")] }),
            Case(classification: .rogueWiFi,
                 positive: { $0.network?.wifi = WiFiObservation(ssid: "Corp", security: .open) },
                 negative: { $0.network?.wifi = WiFiObservation(ssid: "Corp", security: .wpa3Enterprise) },
                 policy: Policy(trustedWiFi: [TrustedWiFi(ssid: "Corp", security: .wpa2Enterprise)])),
            Case(classification: .portScan, positive: { $0.network?.anomalies = [.portScan] }, negative: { $0.network?.anomalies = [.gatewayAddressChange] }),
            Case(classification: .dataLeak,
                 positive: { $0.activity?.append(NetworkActivity(app: "com.x", host: "content.dropboxapi.com")) },
                 negative: { $0.activity?.append(NetworkActivity(app: "com.x", host: "dropbox.example.com")) },
                 policy: Policy(disallowedCloudServices: [CloudServiceRule(name: "Dropbox")])),
            Case(classification: .phishingContent,
                 positive: { $0.content = [ContentVisit(host: "21457452org.weebly.com")] }, negative: { $0.content = [ContentVisit(host: "www.weebly.com")] }),
            Case(classification: .maliciousContent,
                 positive: { $0.content = [ContentVisit(host: "0x0.st", url: "https://0x0.st/8ics.py")] },
                 negative: { $0.content = [ContentVisit(host: "0x0.st", url: "https://0x0.st/readme.txt")] }),
            Case(classification: .offensiveContent,
                 positive: { $0.content = [ContentVisit(host: "www.offensive.example")] }, negative: { $0.content = [ContentVisit(host: "offensive.example.org")] }),
            Case(classification: .denylistedContent,
                 positive: { $0.content = [ContentVisit(host: "casino.example-gambling.com")] }, negative: { $0.content = [ContentVisit(host: "example-gambling.community")] },
                 policy: Policy(contentDenyList: ["example-gambling.com"])),
        ]
        for classification in importedAppClassifications {
            let id = "com.test.\(classification.rawValue.lowercased())"
            cases.append(Case(classification: classification, positive: app(InstalledApp(id: id)), negative: app(InstalledApp(id: id + ".lite"))))
        }
        return cases
    }()

    @Test func everyClassificationHasADetectorCase() {
        let covered = Set(Self.cases.map(\.classification))
        let missing = ThreatClassification.allCases.filter { !covered.contains($0) }
        #expect(missing.isEmpty, "no detector case for \(missing)")
    }

    @Test(arguments: cases)
    func positiveRaisesAndNegativeDoesNot(_ testCase: Case) throws {
        let intelligence = try #require(Self.intelligence)
        var positive = cleanDevice(testCase.mode, platform: testCase.platform)
        testCase.positive(&positive)
        let found = try evaluate(positive, policy: testCase.policy, intelligence: intelligence)
        let finding = found.findings.first { $0.classification == testCase.classification }
        #expect(finding != nil, "expected \(testCase.classification), got \(found.findings.map(\.classification))")
        #expect(finding?.evidence.source?.isEmpty == false)
        #expect(finding?.type == testCase.classification.type)

        var negative = cleanDevice(testCase.mode, platform: testCase.platform)
        testCase.negative(&negative)
        let clean = try evaluate(negative, policy: testCase.policy, intelligence: intelligence)
        #expect(!clean.findings.contains { $0.classification == testCase.classification }, "\(clean.findings)")
    }

    @Test func cleanDevicesRaiseNothing() throws {
        let intelligence = try #require(Self.intelligence)
        for platform in [Platform.android, .ios] {
            let evaluation = try evaluate(cleanDevice(platform: platform), intelligence: intelligence)
            #expect(evaluation.findings.isEmpty, "\(platform): \(evaluation.findings)")
            #expect(evaluation.securityStatus == .secure)
        }
    }
}
