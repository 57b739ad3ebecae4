/// Type, default severity and a one-line description for each classification, in our own words.
enum ThreatCatalog {
    struct Entry: Sendable {
        let type: ThreatType
        let defaultSeverity: Severity
        let summary: String
    }

    static func entry(for classification: ThreatClassification) -> Entry {
        switch classification {
        case .accessControlViolation:
            Entry(type: .os, defaultSeverity: .high,
                  summary: "A hooking or root-hiding tool can bypass the OS permission model, so app sandboxing can no longer be trusted.")
        case .activeMITM:
            Entry(type: .network, defaultSeverity: .high,
                  summary: "Someone on the network is intercepting traffic: certificates do not match, TLS is stripped or ARP is spoofed.")
        case .adware:
            Entry(type: .application, defaultSeverity: .low,
                  summary: "An app pushes intrusive advertising or hands personal data to ad networks.")
        case .appDropper:
            Entry(type: .application, defaultSeverity: .high,
                  summary: "An app fetches and installs further malicious apps.")
        case .backdoor:
            Entry(type: .application, defaultSeverity: .high,
                  summary: "An app exposes protected components or data to a remote attacker.")
        case .bot:
            Entry(type: .application, defaultSeverity: .high,
                  summary: "An app lets a remote operator command the device.")
        case .chargeware:
            Entry(type: .application, defaultSeverity: .medium,
                  summary: "An app bills the user through misleading or hidden charges.")
        case .clickFraud:
            Entry(type: .application, defaultSeverity: .medium,
                  summary: "An app fakes ad clicks or installs to defraud advertising networks.")
        case .dataLeak:
            Entry(type: .application, defaultSeverity: .medium,
                  summary: "An app sends data to a cloud service the policy does not allow.")
        case .denylistedApp:
            Entry(type: .application, defaultSeverity: .medium,
                  summary: "An app on the organization's deny list is installed.")
        case .denylistedContent:
            Entry(type: .webContent, defaultSeverity: .low,
                  summary: "The device reached a site on the organization's content deny list.")
        case .developerModeEnabled:
            Entry(type: .configuration, defaultSeverity: .low,
                  summary: "Developer mode is on, which loosens the platform's protections.")
        case .exploit:
            Entry(type: .application, defaultSeverity: .high,
                  summary: "An app abuses OS flaws to gain privileges it was not granted.")
        case .maliciousContent:
            Entry(type: .webContent, defaultSeverity: .high,
                  summary: "The device reached a host known to distribute malware.")
        case .noDeviceLock:
            Entry(type: .configuration, defaultSeverity: .medium,
                  summary: "No passcode or screen lock protects the device.")
        case .nonAppStoreSigner:
            Entry(type: .configuration, defaultSeverity: .medium,
                  summary: "The user trusted an enterprise or developer signing identity that can run apps from outside the App Store.")
        case .offensiveContent:
            Entry(type: .webContent, defaultSeverity: .low,
                  summary: "The device reached a site listed as offensive content.")
        case .outOfDateASPL:
            Entry(type: .os, defaultSeverity: .medium,
                  summary: "The Android security patch level is older than the policy allows.")
        case .outOfDateOS:
            Entry(type: .os, defaultSeverity: .medium,
                  summary: "The OS version is past end of life or behind a fix that has been out longer than the grace period.")
        case .pcpDisabled:
            Entry(type: .configuration, defaultSeverity: .medium,
                  summary: "Phishing and content protection is switched off in the standalone app.")
        case .phishingContent:
            Entry(type: .webContent, defaultSeverity: .high,
                  summary: "The device reached a host known for phishing or scams.")
        case .riskware:
            Entry(type: .application, defaultSeverity: .low,
                  summary: "An app behaves in risky ways, such as open monitoring of the device's user.")
        case .rogueWiFi:
            Entry(type: .network, defaultSeverity: .high,
                  summary: "An access point poses as a trusted Wi-Fi network but with weaker security or another gateway.")
        case .rootEnabler:
            Entry(type: .application, defaultSeverity: .high,
                  summary: "An app that grants or manages root access is installed.")
        case .rootJailbreak:
            Entry(type: .os, defaultSeverity: .high,
                  summary: "The device is rooted or jailbroken.")
        case .spam:
            Entry(type: .application, defaultSeverity: .medium,
                  summary: "An app uses the device to send spam email or SMS.")
        case .spyware:
            Entry(type: .application, defaultSeverity: .high,
                  summary: "Mercenary or commercial spyware that collects data broadly is present or was contacted.")
        case .surveillanceware:
            Entry(type: .application, defaultSeverity: .high,
                  summary: "Stalkerware that covertly watches a specific person is installed or was contacted.")
        case .tollFraud:
            Entry(type: .application, defaultSeverity: .high,
                  summary: "An app charges the user through premium SMS or carrier billing.")
        case .trojan:
            Entry(type: .application, defaultSeverity: .high,
                  summary: "An app does harmful things it hides from the user.")
        case .unencrypted:
            Entry(type: .configuration, defaultSeverity: .medium,
                  summary: "Storage encryption is off.")
        case .unknownSourcesEnabled:
            Entry(type: .configuration, defaultSeverity: .low,
                  summary: "The global unknown-sources switch allows installs from anywhere (Android 4.1 to 7.1).")
        case .usbDebuggingEnabled:
            Entry(type: .configuration, defaultSeverity: .low,
                  summary: "USB debugging (ADB) is on.")
        case .virus:
            Entry(type: .application, defaultSeverity: .low,
                  summary: "A harmless test file such as EICAR was found, which proves that detection works.")
        case .vpnNotEnabled:
            Entry(type: .configuration, defaultSeverity: .low,
                  summary: "The user declined the local VPN that network and content protection needs.")
        case .vulnerability:
            Entry(type: .application, defaultSeverity: .medium,
                  summary: "An app version with a known exploitable flaw is installed.")
        case .worm:
            Entry(type: .application, defaultSeverity: .high,
                  summary: "An app spreads malicious code to other devices.")
        case .sideloadedApp:
            Entry(type: .application, defaultSeverity: .low,
                  summary: "An app was installed from outside an app store.")
        case .portScan:
            Entry(type: .network, defaultSeverity: .medium,
                  summary: "Something on the network is scanning the device's ports.")
        }
    }
}
