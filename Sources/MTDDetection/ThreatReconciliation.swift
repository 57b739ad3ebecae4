import MTDCore

/// A threat as the store knows it, enough to decide what a new evaluation changes.
public struct KnownThreat: Sendable, Equatable {
    public enum Status: String, Sendable, Codable {
        case open = "OPEN"
        case ignored = "IGNORED"
    }

    public var key: ThreatKey
    public var status: Status
    public var severity: Severity
    public var fingerprint: String

    public init(key: ThreatKey, status: Status, severity: Severity, fingerprint: String) {
        self.key = key
        self.status = status
        self.severity = severity
        self.fingerprint = fingerprint
    }
}

/// What one evaluation changes in a device's threats.
public struct ThreatChanges: Sendable, Equatable {
    /// Findings with no open or ignored threat yet.
    public var opened: [Finding] = []
    /// Threats whose finding is gone.
    public var resolved: [ThreatKey] = []
    /// Open threats whose severity or evidence changed, and ignored threats whose evidence changed
    /// (they become open again: the admin ignored something else).
    public var updated: [Finding] = []
    /// Ignored threats that come back only because their evidence changed.
    public var reopened: [ThreatKey] = []
    public var unchanged: [ThreatKey] = []

    public var isEmpty: Bool { opened.isEmpty && resolved.isEmpty && updated.isEmpty }
}

public enum ThreatReconciliation {
    /// Pure: compares the findings of an evaluation with the device's known (open or ignored) threats.
    public static func reconcile(findings: [Finding], known: [KnownThreat]) -> ThreatChanges {
        var changes = ThreatChanges()
        var knownByKey: [ThreatKey: KnownThreat] = [:]
        for threat in known { knownByKey[threat.key] = threat }
        var present: Set<ThreatKey> = []
        for finding in findings {
            let key = finding.key
            present.insert(key)
            guard let threat = knownByKey[key] else {
                changes.opened.append(finding)
                continue
            }
            let fingerprint = finding.evidence.fingerprint
            switch threat.status {
            case .ignored:
                if fingerprint != threat.fingerprint {
                    changes.updated.append(finding)
                    changes.reopened.append(key)
                } else {
                    changes.unchanged.append(key)
                }
            case .open:
                if fingerprint != threat.fingerprint || finding.severity != threat.severity {
                    changes.updated.append(finding)
                } else {
                    changes.unchanged.append(key)
                }
            }
        }
        changes.resolved = known.map(\.key).filter { !present.contains($0) && !$0.isResolverObservation }.sorted()
        return changes
    }
}
