/// What the organization considers a threat and how much each one counts. Every field has a default,
/// so an empty document is a valid policy.
public struct Policy: Codable, Sendable, Equatable {
    /// Severity per classification; classifications not listed keep their default severity.
    public var severities: [ThreatClassification: Severity]
    public var os: OSRules
    public var apps: AppRules
    /// iOS signing identities (enterprise or developer) the organization itself uses.
    public var allowedEnterpriseSigners: [SignerRule]
    public var trustedWiFi: [TrustedWiFi]
    /// Domains whose visit is DENYLISTED_CONTENT; subdomains match too.
    public var contentDenyList: [String]
    /// Names from the cloud service catalog (`openmtd intel stats` lists them) or custom services.
    public var disallowedCloudServices: [CloudServiceRule]
    /// What the protective DNS resolver blocks or logs.
    public var protectiveDNS: ProtectiveDNSRules

    public init(
        severities: [ThreatClassification: Severity] = [:], os: OSRules = OSRules(), apps: AppRules = AppRules(),
        allowedEnterpriseSigners: [SignerRule] = [], trustedWiFi: [TrustedWiFi] = [], contentDenyList: [String] = [],
        disallowedCloudServices: [CloudServiceRule] = [], protectiveDNS: ProtectiveDNSRules = ProtectiveDNSRules()
    ) {
        self.severities = severities
        self.os = os
        self.apps = apps
        self.allowedEnterpriseSigners = allowedEnterpriseSigners
        self.trustedWiFi = trustedWiFi
        self.contentDenyList = contentDenyList
        self.disallowedCloudServices = disallowedCloudServices
        self.protectiveDNS = protectiveDNS
    }

    public func severity(of classification: ThreatClassification) -> Severity {
        severities[classification] ?? classification.defaultSeverity
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case severities, os, apps, allowedEnterpriseSigners, trustedWiFi, contentDenyList, disallowedCloudServices, protectiveDNS
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.stringValue))
        var severities: [ThreatClassification: Severity] = [:]
        if container.contains(.severities) {
            let nested = try container.nestedContainer(keyedBy: AnyCodingKey.self, forKey: .severities)
            for key in nested.allKeys {
                guard let classification = ThreatClassification(rawValue: key.stringValue) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: key, in: nested,
                        debugDescription: "unknown classification \"\(key.stringValue)\"; \(Suggestion.closest(to: key.stringValue, in: ThreatClassification.allCases.map(\.rawValue)).map { "did you mean \($0)? " } ?? "")see `openmtd intel stats --classifications` for the list")
                }
                severities[classification] = try nested.decode(Severity.self, forKey: key)
            }
        }
        self.severities = severities
        os = try container.decodeIfPresent(OSRules.self, forKey: .os) ?? OSRules()
        apps = try container.decodeIfPresent(AppRules.self, forKey: .apps) ?? AppRules()
        allowedEnterpriseSigners = try container.decodeIfPresent([SignerRule].self, forKey: .allowedEnterpriseSigners) ?? []
        trustedWiFi = try container.decodeIfPresent([TrustedWiFi].self, forKey: .trustedWiFi) ?? []
        contentDenyList = try container.decodeIfPresent([String].self, forKey: .contentDenyList) ?? []
        disallowedCloudServices = try container.decodeIfPresent([CloudServiceRule].self, forKey: .disallowedCloudServices) ?? []
        protectiveDNS = try container.decodeIfPresent(ProtectiveDNSRules.self, forKey: .protectiveDNS) ?? ProtectiveDNSRules()
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        var nested = container.nestedContainer(keyedBy: AnyCodingKey.self, forKey: .severities)
        for (classification, severity) in severities.sorted(by: { $0.key < $1.key }) {
            try nested.encode(severity, forKey: AnyCodingKey(classification.rawValue))
        }
        try container.encode(os, forKey: .os)
        try container.encode(apps, forKey: .apps)
        try container.encode(allowedEnterpriseSigners, forKey: .allowedEnterpriseSigners)
        try container.encode(trustedWiFi, forKey: .trustedWiFi)
        try container.encode(contentDenyList, forKey: .contentDenyList)
        try container.encode(disallowedCloudServices, forKey: .disallowedCloudServices)
        try container.encode(protectiveDNS, forKey: .protectiveDNS)
    }
}

public struct OSRules: Codable, Sendable, Equatable {
    /// How long a newer release of the same major may be out before the device counts as out of date.
    public var gracePeriodDays: Int
    /// Oldest acceptable Android security patch level, in days before the evaluation date.
    public var maxAndroidPatchAgeDays: Int

    public init(gracePeriodDays: Int = 30, maxAndroidPatchAgeDays: Int = 90) {
        self.gracePeriodDays = gracePeriodDays
        self.maxAndroidPatchAgeDays = maxAndroidPatchAgeDays
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case gracePeriodDays, maxAndroidPatchAgeDays }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.stringValue))
        gracePeriodDays = try container.decodeIfPresent(Int.self, forKey: .gracePeriodDays) ?? 30
        maxAndroidPatchAgeDays = try container.decodeIfPresent(Int.self, forKey: .maxAndroidPatchAgeDays) ?? 90
        guard (0...3650).contains(gracePeriodDays) else {
            throw DecodingError.dataCorruptedError(forKey: .gracePeriodDays, in: container, debugDescription: "must be between 0 and 3650 days")
        }
        guard (1...3650).contains(maxAndroidPatchAgeDays) else {
            throw DecodingError.dataCorruptedError(forKey: .maxAndroidPatchAgeDays, in: container, debugDescription: "must be between 1 and 3650 days")
        }
    }
}

public struct AppRules: Codable, Sendable, Equatable {
    /// Installed apps that match are DENYLISTED_APP.
    public var deny: [AppRule]
    /// Apps that match are never reported as sideloaded, denylisted or riskware. Threat intelligence
    /// (malware, spyware, stalkerware) still applies: an allow list must not hide a compromise.
    public var allow: [AppRule]

    public init(deny: [AppRule] = [], allow: [AppRule] = []) {
        self.deny = deny
        self.allow = allow
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case deny, allow }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.stringValue))
        deny = try container.decodeIfPresent([AppRule].self, forKey: .deny) ?? []
        allow = try container.decodeIfPresent([AppRule].self, forKey: .allow) ?? []
    }
}

/// Matches apps by id, by signing certificate (SHA-1 or SHA-256, any case, colons optional), or both.
public struct AppRule: Codable, Sendable, Equatable {
    public var id: String?
    public var signer: String?
    /// Why the rule exists; shown with the finding.
    public var reason: String?

    public init(id: String? = nil, signer: String? = nil, reason: String? = nil) {
        self.id = id
        self.signer = signer
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case id, signer, reason }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.stringValue))
        id = try container.decodeIfPresent(String.self, forKey: .id)
        signer = try container.decodeIfPresent(String.self, forKey: .signer)
        reason = try container.decodeIfPresent(String.self, forKey: .reason)
        if id == nil, signer == nil {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "give an app id, a signer, or both"))
        }
        if let signer, HexDigest(signer) == nil {
            throw DecodingError.dataCorruptedError(forKey: .signer, in: container, debugDescription: "expected a SHA-1 (40 hex digits) or SHA-256 (64 hex digits) certificate fingerprint, colons allowed")
        }
    }
}

/// An iOS signing identity the organization trusts, by team id or by name.
public struct SignerRule: Codable, Sendable, Equatable {
    public var name: String?
    public var teamId: String?

    public init(name: String? = nil, teamId: String? = nil) {
        self.name = name
        self.teamId = teamId
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case name, teamId }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.stringValue))
        name = try container.decodeIfPresent(String.self, forKey: .name)
        teamId = try container.decodeIfPresent(String.self, forKey: .teamId)
        if name == nil, teamId == nil {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "give a name, a teamId, or both"))
        }
    }

    public func matches(_ identity: SigningIdentity) -> Bool {
        if let teamId, let other = identity.teamId, teamId.caseInsensitiveCompare(other) == .orderedSame { return true }
        if teamId == nil, let name, name == identity.name { return true }
        return false
    }
}

/// A Wi-Fi network the organization runs: seeing its SSID with weaker security, or behind a gateway
/// not listed here, means an impostor access point.
public struct TrustedWiFi: Codable, Sendable, Equatable {
    public var ssid: String
    public var security: WiFiSecurity
    public var gatewayMacs: [String]?

    public init(ssid: String, security: WiFiSecurity, gatewayMacs: [String]? = nil) {
        self.ssid = ssid
        self.security = security
        self.gatewayMacs = gatewayMacs
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case ssid, security, gatewayMacs }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.stringValue))
        ssid = try container.decode(String.self, forKey: .ssid)
        security = try container.decode(WiFiSecurity.self, forKey: .security)
        gatewayMacs = try container.decodeIfPresent([String].self, forKey: .gatewayMacs)
    }
}

/// A cloud service apps must not send data to: a catalog name alone, or a name with its own domains.
public struct CloudServiceRule: Codable, Sendable, Equatable {
    public var name: String
    public var domains: [String]?

    public init(name: String, domains: [String]? = nil) {
        self.name = name
        self.domains = domains
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case name, domains }

    public init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer(), let name = try? single.decode(String.self) {
            self.init(name: name)
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.stringValue))
        self.init(
            name: try container.decode(String.self, forKey: .name),
            domains: try container.decodeIfPresent([String].self, forKey: .domains))
    }
}
