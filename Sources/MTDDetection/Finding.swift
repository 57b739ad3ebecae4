import MTDCore

/// One detected threat on one device, with the evidence that supports it.
public struct Finding: Sendable, Codable, Equatable {
    public var classification: ThreatClassification
    /// Severity under the policy; `NONE` findings are reported but do not count towards risk.
    public var severity: Severity
    public var type: ThreatType
    public var evidence: Evidence

    public init(classification: ThreatClassification, severity: Severity, evidence: Evidence) {
        self.classification = classification
        self.severity = severity
        self.type = classification.type
        self.evidence = evidence
    }

    /// Identity of the threat across check-ins: the same classification about the same thing.
    public var key: ThreatKey { ThreatKey(classification: classification, subject: evidence.subject) }
}

/// What a finding is about and why it was raised.
public struct Evidence: Sendable, Codable, Equatable {
    /// What the threat is about: `device`, `app:<id>`, `host:<host>`, `signer:<team>`, `wifi:<ssid>`, `process:<name>`…
    public var subject: String
    /// Where in the check-in the observation was, as a JSON path.
    public var field: String?
    /// The observed value that matched or failed the rule.
    public var observed: String?
    /// The indicator or rule it matched.
    public var indicator: String?
    /// Intelligence source id, or `policy` for policy rules, `os-catalog` for OS freshness.
    public var source: String?
    public var sourceName: String?
    /// Malware family, stalkerware app or cloud service name.
    public var label: String?
    /// The app the observation is attributed to.
    public var app: String?
    public var detail: String?
    /// Actively exploited CVEs that an update would fix.
    public var exploitedCVEs: [String]?

    public init(
        subject: String, field: String? = nil, observed: String? = nil, indicator: String? = nil, source: String? = nil,
        sourceName: String? = nil, label: String? = nil, app: String? = nil, detail: String? = nil, exploitedCVEs: [String]? = nil
    ) {
        self.subject = subject
        self.field = field
        self.observed = observed
        self.indicator = indicator
        self.source = source
        self.sourceName = sourceName
        self.label = label
        self.app = app
        self.detail = detail
        self.exploitedCVEs = exploitedCVEs
    }

    /// The parts of the evidence that identify *what* was found, not *when*: a threat whose
    /// fingerprint changes is new evidence, so an ignored threat comes back.
    public var fingerprint: String {
        [subject, observed ?? "", indicator ?? "", source ?? "", label ?? ""].joined(separator: "|")
    }
}

public struct ThreatKey: Sendable, Hashable, Codable, Comparable {
    public var classification: ThreatClassification
    public var subject: String

    public init(classification: ThreatClassification, subject: String) {
        self.classification = classification
        self.subject = subject
    }

    /// Subjects of threats the protective resolver observed (`dns:<indicator>`). A check-in does not
    /// report them, so its reconciliation leaves them alone; they resolve after the policy's days
    /// without another query.
    public static let resolverSubjectPrefix = "dns:"

    /// The subject of the PCP_DISABLED threat the resolver's silence raises (see `resolverIsSilent`).
    public static let resolverSilenceSubject = resolverSubjectPrefix + "resolver"

    public var isResolverObservation: Bool { subject.hasPrefix(Self.resolverSubjectPrefix) }

    public static func < (lhs: ThreatKey, rhs: ThreatKey) -> Bool {
        (lhs.classification.rawValue, lhs.subject) < (rhs.classification.rawValue, rhs.subject)
    }
}

/// The result of evaluating one check-in.
public struct Evaluation: Sendable, Codable, Equatable {
    public var findings: [Finding]
    /// Highest counted severity (`NONE` when nothing counts).
    public var risk: Severity
    public var securityStatus: SecurityStatus

    public init(findings: [Finding]) {
        self.findings = findings
        let risk = findings.map(\.severity).max() ?? .none
        self.risk = risk
        self.securityStatus = SecurityStatus(highestSeverity: risk)
    }
}
