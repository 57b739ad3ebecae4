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
            let subject = "app:\(app.id)"
            let path = "$.apps.installed[\(index)]"
            intel.forEachAppIdMatch(app.id) { match in
                collector.add(match, subject: subject, field: path + ".id", observed: app.id, app: app.id)
            }
            var signers: [HexDigest] = []
            if let text = app.signerSha1, let digest = HexDigest(text) {
                signers.append(digest)
                intel.forEachSignerMatch(digest) { collector.add($0, subject: subject, field: path + ".signerSha1", observed: text, app: app.id) }
            }
            if let text = app.signerSha256, let digest = HexDigest(text) {
                signers.append(digest)
                intel.forEachSignerMatch(digest) { collector.add($0, subject: subject, field: path + ".signerSha256", observed: text, app: app.id) }
            }
            if let text = app.sha256, let digest = HexDigest(text) {
                intel.forEachPackageHashMatch(digest) { collector.add($0, subject: subject, field: path + ".sha256", observed: text, app: app.id) }
            }
            if let (rule, matched) = policy.denyRule(for: app, signers: signers) {
                collector.add(.denylistedApp, Evidence(
                    subject: subject, field: path, observed: matched, indicator: rule.id ?? rule.signer, source: "policy",
                    app: app.id, detail: rule.reason ?? "on the policy's app deny list"))
                continue
            }
            if app.source == .sideloaded, !policy.isAllowed(app, signers: signers) {
                collector.add(.sideloadedApp, Evidence(
                    subject: subject, field: path + ".source", observed: "SIDELOADED", source: "posture", app: app.id,
                    detail: "installed from outside an app store"))
            }
        }
    }
}
