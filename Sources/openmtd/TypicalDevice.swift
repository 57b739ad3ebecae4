import MTDCore

/// The "typical device" of the evaluation benchmark: a clean Android phone with 50 apps (each with
/// signer and package hashes, so every app costs all its lookups), 20 hosts of background activity,
/// posture, Wi-Fi and a content visit. Nothing in it matches intelligence: a clean device is the
/// common case, and misses are the lookups that must be cheap.
enum TypicalDevice {
    static let hosts = [
        "www.google.com", "mail.google.com", "graph.facebook.com", "api.twitter.com", "outlook.office365.com",
        "login.microsoftonline.com", "www.linkedin.com", "slack.com", "edge-chat.facebook.com", "play.googleapis.com",
        "i.ytimg.com", "www.youtube.com", "api.spotify.com", "s3.eu-west-1.amazonaws.com", "cdn.jsdelivr.net",
        "www.wikipedia.org", "news.ycombinator.com", "teams.microsoft.com", "zoom.us", "www.nytimes.com",
    ]

    static func checkIn() -> CheckIn {
        var apps: [InstalledApp] = []
        for index in 0..<50 {
            let hex = String(repeating: String(format: "%02x", (index * 7 + 3) % 256), count: 32)
            apps.append(InstalledApp(
                id: "com.example.vendor\(index % 9).app\(index)", name: "App \(index)", version: "1.\(index).0",
                source: index % 10 == 0 ? .system : .playStore,
                signerSha1: HexDigest(String(hex.prefix(40))), signerSha256: HexDigest(hex), sha256: HexDigest(String(hex.reversed())),
                permissions: ["android.permission.INTERNET"]))
        }
        return CheckIn(
            agent: AgentInfo(mode: .standalone, version: "1.0.0", sentAt: "2026-11-20T10:00:00Z"),
            device: DeviceInfo(platform: .android, osVersion: "15", securityPatchLevel: "2026-10-01", apiLevel: 35, manufacturer: "Google", model: "Pixel 8"),
            posture: Posture(passcodeSet: true, storageEncrypted: true, compromiseIndicators: [], developerModeEnabled: false,
                             usbDebuggingEnabled: false, vpnPermissionGranted: true, contentProtectionEnabled: true),
            apps: AppInventory(inventoryVersion: 12, complete: true, installed: apps),
            network: NetworkObservation(wifi: WiFiObservation(ssid: "Corp", security: .wpa2Enterprise), anomalies: []),
            activity: hosts.enumerated().map { NetworkActivity(app: "com.example.vendor\($0.offset % 9).app\($0.offset)", host: $0.element, count: 3) },
            content: [ContentVisit(host: "www.bbc.co.uk", url: "https://www.bbc.co.uk/news", app: "com.android.chrome")])
    }
}
