import MTDCore
import MTDIntel

/// Web content flagged by the standalone app's filter: phishing, malware distribution, offensive and
/// denylisted sites. Embedded agents cannot see content, so the collector drops these for them.
enum ContentDetector {
    static func detect(_ checkIn: CheckIn, engine: DetectionEngine, into collector: inout FindingCollector) {
        guard let content = checkIn.content, collector.canDetect(.phishingContent) else { return }
        let intel = engine.intelligence
        for (index, visit) in content.enumerated() {
            func subject() -> String { "host:\(visit.host.lowercased())" }
            func field(_ suffix: String) -> String { "$.content[\(index)]" + suffix }
            intel.forEachDomainMatch(visit.host) { match in
                collector.add(match, subject: subject(), field: field(".host"), observed: visit.host, app: visit.app)
            }
            if let url = visit.url {
                for match in intel.urlMatches(url) {
                    collector.add(match, subject: subject(), field: field(".url"), observed: url, app: visit.app)
                }
            }
            if let (domain, _) = engine.policy.contentDeny.match(visit.host) {
                collector.add(.denylistedContent, Evidence(
                    subject: subject(), field: field(".host"), observed: visit.host, indicator: domain, source: "policy",
                    app: visit.app, detail: "on the policy's content deny list"))
            }
        }
    }
}
