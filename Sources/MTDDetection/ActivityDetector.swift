import MTDCore
import MTDIntel

/// Background network activity: contact with spyware or stalkerware infrastructure (attributed to the
/// app that made it), with known-bad content hosts (standalone only), and with cloud services the
/// policy disallows (DATA_LEAK).
enum ActivityDetector {
    static func detect(_ checkIn: CheckIn, engine: DetectionEngine, into collector: inout FindingCollector) {
        guard let activity = checkIn.activity else { return }
        let intel = engine.intelligence
        let cloud = engine.policy.disallowedCloud
        for (index, item) in activity.enumerated() {
            func field() -> String { "$.activity[\(index)].host" }
            intel.forEachDomainMatch(item.host) { match in
                // App families are about the app that called home; content hosts are about the host.
                let subject: String
                if match.classification.type == .webContent {
                    subject = "host:\(item.host.lowercased())"
                } else if let app = item.app {
                    subject = "app:\(app)"
                } else {
                    subject = "host:\(item.host.lowercased())"
                }
                collector.add(match, subject: subject, field: field(), observed: item.host, app: item.app)
            }
            if let (domain, service) = cloud.match(item.host) {
                collector.add(.dataLeak, Evidence(
                    subject: "\(item.app.map { "app:\($0)" } ?? "device")|cloud:\(service)", field: field(), observed: item.host,
                    indicator: domain, source: "policy", label: service, app: item.app,
                    detail: "\(item.app ?? "an app") sent data to \(service), which the policy disallows"))
            }
        }
    }
}
