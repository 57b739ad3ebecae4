import Foundation
import MTDCore
import MTDIntel

/// The network the device is on: interception (certificate mismatch, SSL strip, ARP spoofing),
/// impostor access points for trusted SSIDs, and port scans.
enum NetworkDetector {
    static func detect(_ checkIn: CheckIn, engine: DetectionEngine, into collector: inout FindingCollector) {
        guard let network = checkIn.network else { return }
        let ssid = network.wifi?.ssid
        let subject = ssid.map { "wifi:\($0)" } ?? "network"
        for (index, probe) in (network.tlsProbes ?? []).enumerated() where !sameKey(probe.expectedSpkiSha256, probe.observedSpkiSha256) {
            collector.add(.activeMITM, Evidence(
                subject: subject, field: "$.network.tlsProbes[\(index)]", observed: probe.observedSpkiSha256,
                indicator: probe.expectedSpkiSha256, source: "tls-probe",
                detail: "\(probe.host) presented a different certificate key than expected"))
        }
        let anomalies = network.anomalies ?? []
        for anomaly in anomalies {
            switch anomaly {
            case .arpSpoofing, .sslStrip:
                collector.add(.activeMITM, Evidence(
                    subject: subject, field: "$.network.anomalies", observed: anomaly.rawValue, source: "network-anomaly",
                    detail: anomaly == .sslStrip ? "a connection was downgraded from TLS" : "the gateway's address was spoofed"))
            case .portScan:
                collector.add(.portScan, Evidence(
                    subject: subject, field: "$.network.anomalies", observed: anomaly.rawValue, source: "network-anomaly",
                    detail: "inbound connection attempts to many ports"))
            case .gatewayAddressChange:
                break // only meaningful on a trusted network, below
            }
        }
        guard let wifi = network.wifi, let ssid = wifi.ssid, let trusted = engine.policy.trustedWiFi[ssid] else { return }
        if let security = wifi.security, security.strength < trusted.security.strength {
            collector.add(.rogueWiFi, Evidence(
                subject: subject, field: "$.network.wifi.security", observed: security.rawValue, indicator: trusted.security.rawValue,
                source: "policy", detail: "\(ssid) is trusted with \(trusted.security.rawValue) but offered \(security.rawValue)"))
        } else if let gateways = trusted.gatewayMacs, !gateways.isEmpty, let gateway = wifi.gatewayMac,
                  !gateways.contains(where: { sameMac($0, gateway) }) {
            collector.add(.rogueWiFi, Evidence(
                subject: subject, field: "$.network.wifi.gatewayMac", observed: gateway, indicator: gateways.joined(separator: ", "),
                source: "policy", detail: "\(ssid) answered from a gateway that is not one of its own"))
        } else if anomalies.contains(.gatewayAddressChange) {
            collector.add(.rogueWiFi, Evidence(
                subject: subject, field: "$.network.anomalies", observed: NetworkAnomaly.gatewayAddressChange.rawValue,
                source: "network-anomaly", detail: "the gateway of trusted network \(ssid) changed"))
        }
    }

    static func sameKey(_ a: String, _ b: String) -> Bool {
        if let left = HexDigest(a), let right = HexDigest(b) { return left == right }
        // Base64 is case-sensitive; only the padding may differ.
        return a.trimmingCharacters(in: ["="]) == b.trimmingCharacters(in: ["="])
    }

    static func sameMac(_ a: String, _ b: String) -> Bool {
        func normalize(_ text: String) -> String { text.lowercased().filter(\.isHexDigit) }
        return normalize(a) == normalize(b)
    }
}
