import MTDCore
import MTDIntel

/// A policy turned into lookup structures once, so that every check-in pays only for lookups.
struct CompiledPolicy: Sendable {
    let policy: Policy
    let severities: [ThreatClassification: Severity]
    let denyIds: [String: AppRule]
    let denySigners: [HexDigest: AppRule]
    let allowIds: Set<String>
    let allowSigners: Set<HexDigest>
    let contentDeny: DomainSet
    let dnsAllow: DomainSet
    let disallowedCloud: DomainSet
    let trustedWiFi: [String: TrustedWiFi]

    init(_ policy: Policy, cloudServices: CloudServiceCatalog) throws(DocumentError) {
        self.policy = policy
        var severities: [ThreatClassification: Severity] = [:]
        for classification in ThreatClassification.allCases { severities[classification] = policy.severity(of: classification) }
        self.severities = severities
        var denyIds: [String: AppRule] = [:]
        var denySigners: [HexDigest: AppRule] = [:]
        for rule in policy.apps.deny {
            if let id = rule.id { denyIds[id.lowercased()] = rule }
            if let signer = rule.signer.flatMap({ HexDigest($0) }) { denySigners[signer] = rule }
        }
        self.denyIds = denyIds
        self.denySigners = denySigners
        allowIds = Set(policy.apps.allow.compactMap { $0.id?.lowercased() })
        allowSigners = Set(policy.apps.allow.compactMap { $0.signer.flatMap { HexDigest($0) } })
        for (index, domain) in policy.contentDenyList.enumerated() where !Self.isPlausibleDomain(domain) {
            throw DocumentError(path: "$.contentDenyList[\(index)]", message: "\"\(domain)\" is not a domain name; write it like example.com (subdomains match too)")
        }
        contentDeny = DomainSet(policy.contentDenyList.map { ($0, $0) })
        for (index, domain) in policy.protectiveDNS.allowList.enumerated() where !Self.isPlausibleDomain(domain) {
            throw DocumentError(path: "$.protectiveDNS.allowList[\(index)]", message: "\"\(domain)\" is not a domain name; write it like example.com (subdomains match too)")
        }
        dnsAllow = DomainSet(policy.protectiveDNS.allowList.map { ($0, $0) })
        var cloudDomains: [(domain: String, name: String)] = []
        for (index, rule) in policy.disallowedCloudServices.enumerated() {
            if let domains = rule.domains, !domains.isEmpty {
                cloudDomains += domains.map { ($0, rule.name) }
            } else if let service = cloudServices.service(named: rule.name) {
                cloudDomains += service.domains.map { ($0, service.name) }
            } else {
                let hint = Suggestion.closest(to: rule.name, in: cloudServices.services.map(\.name)).map { "did you mean \"\($0)\"? " } ?? ""
                throw DocumentError(
                    path: "$.disallowedCloudServices[\(index)]",
                    message: "unknown cloud service \"\(rule.name)\"; \(hint)name a catalog service (openmtd intel stats lists them) or give {\"name\":…,\"domains\":[…]}")
            }
        }
        disallowedCloud = DomainSet(cloudDomains)
        var trusted: [String: TrustedWiFi] = [:]
        for network in policy.trustedWiFi { trusted[network.ssid] = network }
        trustedWiFi = trusted
    }

    @inline(__always)
    func severity(_ classification: ThreatClassification) -> Severity {
        severities[classification] ?? classification.defaultSeverity
    }

    func isAllowed(_ app: InstalledApp, sha1: HexDigest?, sha256: HexDigest?) -> Bool {
        if !allowIds.isEmpty, allowIds.contains(app.id.lowercased()) { return true }
        guard !allowSigners.isEmpty else { return false }
        return [sha1, sha256].contains { $0.map { allowSigners.contains($0) } ?? false }
    }

    func denyRule(for app: InstalledApp, sha1: HexDigest?, sha256: HexDigest?) -> (AppRule, String)? {
        if !denyIds.isEmpty, let rule = denyIds[app.id.lowercased()] { return (rule, app.id) }
        guard !denySigners.isEmpty else { return nil }
        for signer in [sha1, sha256].compactMap({ $0 }) {
            if let rule = denySigners[signer] { return (rule, signer.description) }
        }
        return nil
    }

    private static func isPlausibleDomain(_ text: String) -> Bool {
        !text.isEmpty && !text.contains("/") && !text.contains(" ") && !text.hasPrefix(".") && text.contains(".") || text == "localhost"
    }
}
