import Foundation
import MTDCore
import MTDDetection
import MTDIntel

/// The shipped intelligence, loaded once per test process.
enum Shipped {
    static let intelligence: ThreatIntelligence? = try? IntelligenceLoader.load()
}

/// 2026-11-20, the day the pinned figures of these tests assume.
let testDay = Timestamp.day("2026-11-20") ?? 0

/// A clean, current device that raises nothing; tests change one thing at a time.
func cleanDevice(_ mode: DeploymentMode = .standalone, platform: Platform = .android) -> CheckIn {
    CheckIn(
        agent: AgentInfo(mode: mode),
        device: platform == .android
            ? DeviceInfo(platform: .android, osVersion: "16", securityPatchLevel: "2026-11-01", apiLevel: 36)
            : DeviceInfo(platform: .ios, osVersion: "26.6.1", model: "iPhone16,1"),
        posture: Posture(passcodeSet: true, storageEncrypted: true, compromiseIndicators: [], developerModeEnabled: false,
                         usbDebuggingEnabled: false, unknownSourcesEnabled: false, vpnPermissionGranted: true,
                         contentProtectionEnabled: true, trustedSigningIdentities: []),
        apps: AppInventory(inventoryVersion: 1, complete: true, installed: [InstalledApp(id: "com.whatsapp", source: .playStore)]),
        network: NetworkObservation(wifi: WiFiObservation(ssid: "Cafe", security: .wpa2), tlsProbes: [], anomalies: []),
        activity: [NetworkActivity(app: "com.whatsapp", host: "g.whatsapp.net", count: 3)],
        content: [],
        diagnostics: Diagnostics(processes: ["SpringBoard"], filePaths: [], configurationProfiles: []))
}

func evaluate(_ checkIn: CheckIn, policy: Policy = Policy(), intelligence: ThreatIntelligence) throws -> Evaluation {
    try DetectionEngine(policy: policy, intelligence: intelligence).evaluate(checkIn, asOfDay: testDay)
}
