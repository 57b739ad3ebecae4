import MTDCore
import MTDIntel

/// Decides, from one check-in, which threats are present, how severe each is under the policy, and why.
/// A pure function of (check-in, policy, intelligence, day): no I/O and no clock reads.
public struct DetectionEngine: Sendable {
    public let intelligence: ThreatIntelligence
    let policy: CompiledPolicy

    /// Fails when the policy refers to something the intelligence does not know (e.g. a cloud service name).
    public init(policy: Policy, intelligence: ThreatIntelligence) throws(DocumentError) {
        self.intelligence = intelligence
        self.policy = try CompiledPolicy(policy, cloudServices: intelligence.cloudServices)
    }

    public var currentPolicy: Policy { policy.policy }

    /// Evaluates `checkIn` as of `asOfDay` (days since 1970-01-01, see `Timestamp.day`).
    public func evaluate(_ checkIn: CheckIn, asOfDay: Int) -> Evaluation {
        var collector = FindingCollector(mode: checkIn.agent.mode, policy: policy)
        PostureDetector.detect(checkIn, engine: self, into: &collector)
        OSDetector.detect(checkIn, asOfDay: asOfDay, engine: self, into: &collector)
        AppDetector.detect(checkIn, engine: self, into: &collector)
        NetworkDetector.detect(checkIn, engine: self, into: &collector)
        ActivityDetector.detect(checkIn, engine: self, into: &collector)
        ContentDetector.detect(checkIn, engine: self, into: &collector)
        DiagnosticsDetector.detect(checkIn, engine: self, into: &collector)
        return Evaluation(findings: collector.findings)
    }
}

/// Gathers findings: drops what the deployment mode cannot detect, applies the policy's severity,
/// and keeps one finding per threat (classification and subject).
struct FindingCollector {
    let mode: DeploymentMode
    let policy: CompiledPolicy
    private(set) var findings: [Finding] = []
    private var seen: Set<ThreatKey> = []

    init(mode: DeploymentMode, policy: CompiledPolicy) {
        self.mode = mode
        self.policy = policy
    }

    func canDetect(_ classification: ThreatClassification) -> Bool {
        classification.isDetectable(in: mode)
    }

    mutating func add(_ classification: ThreatClassification, _ evidence: Evidence) {
        guard canDetect(classification) else { return }
        let key = ThreatKey(classification: classification, subject: evidence.subject)
        guard seen.insert(key).inserted else { return }
        findings.append(Finding(classification: classification, severity: policy.severity(classification), evidence: evidence))
    }

    mutating func add(_ match: IntelMatch, subject: String, field: String, observed: String, app: String? = nil) {
        add(match.classification, Evidence(
            subject: subject, field: field, observed: observed, indicator: match.indicator, source: match.source.id,
            sourceName: match.source.name, label: match.label, app: app))
    }
}
