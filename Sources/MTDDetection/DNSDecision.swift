import Foundation
import MTDCore
import MTDIntel

/// What the protective DNS resolver does with one queried name, and why. Pure: the same domain
/// tables and policy the detection engine uses for content, so a name the resolver blocks is the
/// name a check-in would report.
public struct DNSDecision: Sendable, Equatable {
    public typealias Verdict = ProtectiveDNSRules.Action

    public var verdict: Verdict
    /// The content class the name falls in (nil when nothing matched).
    public var classification: ThreatClassification?
    /// The indicator or deny-list entry that matched: the name itself or a parent domain.
    public var indicator: String?
    /// `policy` for the content deny list, else the intelligence source id (`blocklistproject:phishing`).
    public var source: String?
    /// The family or list name inside the source, e.g. "Pegasus".
    public var label: String?
    /// The allow-list entry that let the name through, if one did.
    public var allowedBy: String?

    public static let allowed = DNSDecision(verdict: .allow)

    public init(verdict: Verdict, classification: ThreatClassification? = nil, indicator: String? = nil, source: String? = nil,
                label: String? = nil, allowedBy: String? = nil) {
        self.verdict = verdict
        self.classification = classification
        self.indicator = indicator
        self.source = source
        self.label = label
        self.allowedBy = allowedBy
    }

    /// RFC 8914: Blocked (15) for the operator's own deny list, Filtered (17) for intelligence.
    public var extendedErrorCode: UInt16? {
        guard classification != nil else { return nil }
        return source == "policy" ? ExtendedDNSError.blocked : ExtendedDNSError.filtered
    }

    /// EXTRA-TEXT of the Extended DNS Error: the class, the indicator and where it comes from.
    public var explanation: String {
        guard let classification, let indicator, let source else { return allowedBy.map { "allowed by the allow list entry \($0)" } ?? "no indicator matched" }
        return "\(classification.rawValue): \(indicator) (\(source)\(label.map { ", \($0)" } ?? ""))"
    }
}

extension DNSDecision {
    /// What a client receives for a query of `type`, in words (for `openmtd dns query` and the
    /// admin API's explanation).
    public func answerDescription(type: DNSRecordType, rules: ProtectiveDNSRules) -> String {
        guard verdict == .block, let code = extendedErrorCode else {
            return verdict == .logOnly ? "forwarded to the upstream; the hit is reported" : "forwarded to the upstream"
        }
        let error = "Extended DNS Error \(code) (\(code == ExtendedDNSError.blocked ? "Blocked" : "Filtered")): \(explanation)"
        switch rules.blockedAnswer {
        case .nxdomain:
            return "NXDOMAIN, TTL \(rules.blockedTTLSeconds) s, \(error)"
        case .nullAddress:
            let record = type == .a ? "0.0.0.0" : type == .aaaa ? "::" : "no records"
            return "NOERROR with \(record), TTL \(rules.blockedTTLSeconds) s, \(error)"
        }
    }
}

extension DetectionEngine {
    /// Decides for `host` (lowercase, no final dot): the allow list wins; otherwise the strongest
    /// action among the matching indicators and deny-list entries (block over log only), the most
    /// specific match first on a tie. Spyware and stalkerware infrastructure counts as malicious content.
    public func dnsDecision(for host: String) -> DNSDecision {
        let rules = policy.policy.protectiveDNS
        if let (domain, _) = policy.dnsAllow.match(host) { return DNSDecision(verdict: .allow, allowedBy: domain) }
        var best: DNSDecision?
        func consider(_ classification: ThreatClassification, indicator: String, source: String, label: String?) {
            let action = rules.action(for: classification)
            guard action != .allow else { return }
            if let current = best, current.verdict == .block || action == .logOnly { return }
            best = DNSDecision(verdict: action, classification: classification, indicator: indicator, source: source, label: label)
        }
        intelligence.forEachDomainMatch(host) { match in
            let classification = ProtectiveDNSRules.classes.contains(match.classification) ? match.classification : .maliciousContent
            consider(classification, indicator: match.indicator, source: match.source.id, label: match.label.isEmpty ? nil : match.label)
        }
        if let (domain, _) = policy.contentDeny.match(host) {
            consider(.denylistedContent, indicator: domain, source: "policy", label: nil)
        }
        return best ?? .allowed
    }

    /// The threat a blocked or logged query of an attributed device is, whatever the device's
    /// deployment mode (the resolver sees what an embedded agent cannot): one per indicator, so a
    /// hundred subdomains of one phishing kit are one threat. Nil for an allowed name.
    public func dnsFinding(host: String, decision: DNSDecision) -> Finding? {
        guard decision.verdict != .allow, let classification = decision.classification, let indicator = decision.indicator else { return nil }
        let detail = decision.verdict == .block ? "blocked by the protective resolver" : "resolved and logged by the protective resolver"
        return Finding(classification: classification, severity: policy.severity(classification), evidence: Evidence(
            subject: ThreatKey.resolverSubjectPrefix + indicator, field: nil, observed: host, indicator: indicator, source: decision.source,
            label: decision.label, detail: detail))
    }

    /// The threat a device's silent resolver is: content protection is off although the device
    /// is on. `silentSince` is its last query, or the issue of its token if it never sent one.
    public func resolverSilenceFinding(silentSince: Date, queriedBefore: Bool) -> Finding {
        let hours = protectiveDNSRules.silenceHours ?? 0
        return Finding(classification: .pcpDisabled, severity: policy.severity(.pcpDisabled), evidence: Evidence(
            subject: ThreatKey.resolverSilenceSubject, field: nil,
            observed: queriedBefore ? "last query \(silentSince.ISO8601Format())" : "no query since the resolver token was issued \(silentSince.ISO8601Format())",
            source: "protective-dns",
            detail: "the device checks in, but its protective resolver has had no query for over \(hours) hours: its DNS profile was removed or overridden"))
    }

    /// The policy's resolver rules (blocked answer, its TTL).
    public var protectiveDNSRules: ProtectiveDNSRules { policy.policy.protectiveDNS }
}
