import MTDCore
import MTDIntel

/// Device settings: lock, encryption, compromise, developer options, VPN and content protection,
/// trusted signing identities. An absent field was not observed and raises nothing.
enum PostureDetector {
    /// Compromise evidence naming these tools means code can be injected into other apps,
    /// which defeats the OS permission model (ACCESS_CONTROL_VIOLATION) on top of the root itself.
    static let hookingFrameworks = ["frida", "xposed", "lsposed", "edxposed", "substrate", "substitute", "libhooker", "ellekit", "riru", "zygisk", "cydia"]

    static func detect(_ checkIn: CheckIn, engine: DetectionEngine, into collector: inout FindingCollector) {
        guard let posture = checkIn.posture else { return }
        if posture.passcodeSet == false {
            collector.add(.noDeviceLock, Evidence(subject: "device", field: "$.posture.passcodeSet", observed: "false", source: "posture"))
        }
        if posture.storageEncrypted == false {
            collector.add(.unencrypted, Evidence(subject: "device", field: "$.posture.storageEncrypted", observed: "false", source: "posture"))
        }
        if let indicators = posture.compromiseIndicators, !indicators.isEmpty {
            collector.add(.rootJailbreak, Evidence(
                subject: "device", field: "$.posture.compromiseIndicators", observed: indicators.joined(separator: ", "), source: "posture",
                detail: checkIn.device.platform == .ios ? "jailbreak evidence found on the device" : "root evidence found on the device"))
            let hooking = indicators.filter { indicator in
                let lowered = indicator.lowercased()
                return hookingFrameworks.contains { lowered.contains($0) }
            }
            if !hooking.isEmpty {
                collector.add(.accessControlViolation, Evidence(
                    subject: "device", field: "$.posture.compromiseIndicators", observed: hooking.joined(separator: ", "), source: "posture",
                    detail: "a code-injection framework is present"))
            }
        }
        if posture.developerModeEnabled == true {
            collector.add(.developerModeEnabled, Evidence(subject: "device", field: "$.posture.developerModeEnabled", observed: "true", source: "posture"))
        }
        if posture.usbDebuggingEnabled == true {
            collector.add(.usbDebuggingEnabled, Evidence(subject: "device", field: "$.posture.usbDebuggingEnabled", observed: "true", source: "posture"))
        }
        if posture.unknownSourcesEnabled == true, checkIn.device.platform == .android,
           let apiLevel = apiLevel(of: checkIn.device, engine: engine), (16...25).contains(apiLevel) {
            collector.add(.unknownSourcesEnabled, Evidence(
                subject: "device", field: "$.posture.unknownSourcesEnabled", observed: "true", source: "posture",
                detail: "API level \(apiLevel) honours the global unknown-sources switch"))
        }
        if posture.vpnPermissionGranted == false {
            collector.add(.vpnNotEnabled, Evidence(subject: "device", field: "$.posture.vpnPermissionGranted", observed: "false", source: "posture"))
        }
        if posture.contentProtectionEnabled == false {
            collector.add(.pcpDisabled, Evidence(subject: "device", field: "$.posture.contentProtectionEnabled", observed: "false", source: "posture"))
        }
        for (index, identity) in (posture.trustedSigningIdentities ?? []).enumerated()
        where !engine.policy.policy.allowedEnterpriseSigners.contains(where: { $0.matches(identity) }) {
            collector.add(.nonAppStoreSigner, Evidence(
                subject: "signer:\(identity.teamId ?? identity.name)", field: "$.posture.trustedSigningIdentities[\(index)]",
                observed: identity.teamId.map { "\(identity.name) (\($0))" } ?? identity.name, source: "policy",
                detail: "not in the policy's allowedEnterpriseSigners"))
        }
    }

    /// The reported API level, or the one of the Android release the OS version names.
    static func apiLevel(of device: DeviceInfo, engine: DetectionEngine) -> Int? {
        if let apiLevel = device.apiLevel { return apiLevel }
        return engine.intelligence.os.androidAPILevel(forVersion: device.osVersion)
    }
}
