import MTDCore
import MTDIntel

/// OS freshness: end-of-life majors, releases behind a fix that has been out longer than the grace
/// period, and Android patch levels older than the policy allows.
enum OSDetector {
    static func detect(_ checkIn: CheckIn, asOfDay: Int, engine: DetectionEngine, into collector: inout FindingCollector) {
        let device = checkIn.device
        let rules = engine.policy.policy.os
        let catalog = engine.intelligence.os
        if let assessment = catalog.assess(platform: device.platform, version: device.osVersion, model: device.model, asOfDay: asOfDay) {
            let platformName = device.platform == .ios ? "iOS" : "Android"
            if !assessment.supported {
                let eol = assessment.endOfLifeDay.map { " on \(Timestamp.string(fromDay: $0))" } ?? ""
                collector.add(.outOfDateOS, Evidence(
                    subject: "device", field: "$.device.osVersion", observed: device.osVersion,
                    indicator: "\(platformName) \(assessment.cycle) end of life", source: "os-catalog",
                    detail: "\(platformName) \(assessment.cycle) stopped receiving security fixes\(eol)",
                    exploitedCVEs: assessment.exploitedCVEsFixedLater.isEmpty ? nil : assessment.exploitedCVEsFixedLater))
            } else if let days = assessment.daysSinceFirstNewerRelease, days > rules.gracePeriodDays, let newest = assessment.newestInCycle {
                let exploited = assessment.exploitedCVEsFixedLater
                let exploitedText = exploited.isEmpty ? "" : "; it fixes \(exploited.count) actively exploited CVE\(exploited.count == 1 ? "" : "s")"
                collector.add(.outOfDateOS, Evidence(
                    subject: "device", field: "$.device.osVersion", observed: device.osVersion,
                    indicator: "\(platformName) \(newest)", source: "os-catalog",
                    detail: "\(assessment.firstNewerRelease ?? newest) has been out \(days) days (grace period \(rules.gracePeriodDays)); newest is \(newest)\(exploitedText)",
                    exploitedCVEs: exploited.isEmpty ? nil : exploited))
            }
        }
        if device.platform == .android, let level = device.securityPatchLevel, let patchDay = Timestamp.day(level) {
            let age = asOfDay - patchDay
            if age > rules.maxAndroidPatchAgeDays {
                let exploited = catalog.androidExploitedAfter(patchDay: patchDay, asOfDay: asOfDay).map(\.cve)
                collector.add(.outOfDateASPL, Evidence(
                    subject: "device", field: "$.device.securityPatchLevel", observed: level,
                    indicator: "patch level at most \(rules.maxAndroidPatchAgeDays) days old", source: "policy",
                    detail: "security patch level is \(age) days old"
                        + (exploited.isEmpty ? "" : "; CISA has since listed \(exploited.count) exploited Android CVEs"),
                    exploitedCVEs: exploited.isEmpty ? nil : exploited))
            }
        }
    }
}
