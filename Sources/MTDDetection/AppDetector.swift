import MTDCore
import MTDIntel

/// Installed apps: threat intelligence on app id, signing certificate and package hash; the policy's
/// deny and allow lists; sideloading.
enum AppDetector {
    static func detect(_ checkIn: CheckIn, engine: DetectionEngine, into collector: inout FindingCollector) {
        guard let installed = checkIn.apps?.installed else { return }
        let intel = engine.intelligence
        let policy = engine.policy
        for (index, app) in installed.enumerated() {
            // Paths and subjects are built only when something matches: most apps match nothing,
            // and string building would dominate the cost of a clean inventory.
            func subject() -> String { "app:\(app.id)" }
            func path(_ suffix: String = "") -> String { "$.apps.installed[\(index)]" + suffix }
            intel.forEachAppIdMatch(app.id) { match in
                collector.add(match, subject: subject(), field: path(".id"), observed: app.id, app: app.id)
            }
            let sha1 = app.signerSha1
            let sha256 = app.signerSha256
            if let sha1 {
                intel.forEachSignerMatch(sha1) { collector.add($0, subject: subject(), field: path(".signerSha1"), observed: sha1.description, app: app.id) }
            }
            if let sha256 {
                intel.forEachSignerMatch(sha256) { collector.add($0, subject: subject(), field: path(".signerSha256"), observed: sha256.description, app: app.id) }
            }
            if let digest = app.sha256 {
                intel.forEachPackageHashMatch(digest) { collector.add($0, subject: subject(), field: path(".sha256"), observed: digest.description, app: app.id) }
            }
            if let (rule, matched) = policy.denyRule(for: app, sha1: sha1, sha256: sha256) {
                collector.add(.denylistedApp, Evidence(
                    subject: subject(), field: path(), observed: matched, indicator: rule.id ?? rule.signer, source: "policy",
                    app: app.id, detail: rule.reason ?? "on the policy's app deny list"))
                continue
            }
            if app.source == .sideloaded, !policy.isAllowed(app, sha1: sha1, sha256: sha256) {
                collector.add(.sideloadedApp, Evidence(
                    subject: subject(), field: path(".source"), observed: "SIDELOADED", source: "posture", app: app.id,
                    detail: "installed from outside an app store"))
            }
        }
    }
}
