import Foundation

/// The protective DNS resolver's part of the policy: what it does with a name that web-content
/// intelligence or the content deny list flags, and which names it never blocks.
public struct ProtectiveDNSRules: Codable, Sendable, Equatable {
    public enum Action: String, Codable, Sendable, CaseIterable, WireEnum {
        /// Answer with the blocked answer and report the hit.
        case block = "BLOCK"
        /// Resolve normally, and report the hit as if blocked.
        case logOnly = "LOG_ONLY"
        /// Resolve normally and report nothing.
        case allow = "ALLOW"
    }

    public enum BlockedAnswer: String, Codable, Sendable, CaseIterable, WireEnum {
        /// NXDOMAIN: the name does not exist.
        case nxdomain = "NXDOMAIN"
        /// A and AAAA get 0.0.0.0 and `::` (other types an empty answer), so apps fail fast without retrying.
        case nullAddress = "NULL_ADDRESS"
    }

    /// The classes a name can fall in. Intelligence of other classifications (spyware, stalkerware
    /// infrastructure) counts as MALICIOUS_CONTENT here.
    public static let classes: [ThreatClassification] = [.phishingContent, .maliciousContent, .denylistedContent, .offensiveContent]
    public static let defaultActions: [ThreatClassification: Action] = [
        .phishingContent: .block, .maliciousContent: .block, .denylistedContent: .block, .offensiveContent: .logOnly,
    ]

    /// Action per class; a class not listed keeps its default (offensive content is logged only).
    public var actions: [ThreatClassification: Action]
    /// Names never blocked nor reported, with their subdomains; they win over intelligence and the deny list.
    public var allowList: [String]
    public var blockedAnswer: BlockedAnswer
    /// TTL of a blocked answer, so a device asks again soon after an allow-list change.
    public var blockedTTLSeconds: Int
    /// A threat the resolver opened resolves after this many days without another query of its indicator.
    public var resolveAfterDays: Int
    /// A device that checks in but has sent the resolver no query for this many hours has had its
    /// DNS profile removed or overridden: PCP_DISABLED. Nil (the default) leaves this off, for
    /// fleets where not every device gets the DNS profile.
    public var silenceHours: Int?

    public static let silenceHoursRange = 1...720
    /// Days a device's own queries (name, type, action) are kept, for an investigation. Nil (the
    /// default) keeps none: only the aggregate counters per enterprise and day, and the threats.
    public var queryLogDays: Int?
    public static let queryLogDaysRange = 1...90
    /// Where this enterprise's unattributed clients (plain DNS, DoH or DoT without a resolver token)
    /// come from: office and VPN networks. See `ResolverNetworks`.
    public var networks: [IPNetwork]
    public static let maxNetworks = 256

    public init(actions: [ThreatClassification: Action] = [:], allowList: [String] = [], blockedAnswer: BlockedAnswer = .nxdomain,
                blockedTTLSeconds: Int = 60, resolveAfterDays: Int = 7, silenceHours: Int? = nil, queryLogDays: Int? = nil,
                networks: [IPNetwork] = []) {
        self.actions = actions
        self.allowList = allowList
        self.blockedAnswer = blockedAnswer
        self.blockedTTLSeconds = blockedTTLSeconds
        self.resolveAfterDays = resolveAfterDays
        self.silenceHours = silenceHours
        self.queryLogDays = queryLogDays
        self.networks = networks
    }

    /// Whether a device's resolver counts as silent: the policy watches for silence, the device's
    /// last query (or, before its first, the issue of its token) is older than the window, and it
    /// checked in within the window, so the device is on and its resolver is not.
    public func resolverIsSilent(lastQueryAt: Date, lastCheckInAt: Date?, now: Date) -> Bool {
        guard let silenceHours, let lastCheckInAt else { return false }
        let windowStart = now.addingTimeInterval(-Double(silenceHours) * 3_600)
        return lastQueryAt < windowStart && lastCheckInAt >= windowStart
    }

    public func action(for classification: ThreatClassification) -> Action {
        actions[classification] ?? Self.defaultActions[classification] ?? .block
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case actions, allowList, blockedAnswer, blockedTTLSeconds, resolveAfterDays, silenceHours, queryLogDays, networks }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.stringValue))
        var actions: [ThreatClassification: Action] = [:]
        if container.contains(.actions) {
            let nested = try container.nestedContainer(keyedBy: AnyCodingKey.self, forKey: .actions)
            for key in nested.allKeys {
                guard let classification = ThreatClassification(rawValue: key.stringValue), Self.classes.contains(classification) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: key, in: nested,
                        debugDescription: "expected one of \(Self.classes.map(\.rawValue).joined(separator: ", ")), got \"\(key.stringValue)\"")
                }
                actions[classification] = try nested.decode(Action.self, forKey: key)
            }
        }
        self.actions = actions
        allowList = try container.decodeIfPresent([String].self, forKey: .allowList) ?? []
        blockedAnswer = try container.decodeIfPresent(BlockedAnswer.self, forKey: .blockedAnswer) ?? .nxdomain
        blockedTTLSeconds = try container.decodeIfPresent(Int.self, forKey: .blockedTTLSeconds) ?? 60
        guard (0...86_400).contains(blockedTTLSeconds) else {
            throw DecodingError.dataCorruptedError(forKey: .blockedTTLSeconds, in: container, debugDescription: "must be from 0 to 86400 seconds")
        }
        resolveAfterDays = try container.decodeIfPresent(Int.self, forKey: .resolveAfterDays) ?? 7
        guard (1...365).contains(resolveAfterDays) else {
            throw DecodingError.dataCorruptedError(forKey: .resolveAfterDays, in: container, debugDescription: "must be from 1 to 365 days")
        }
        silenceHours = try container.decodeIfPresent(Int.self, forKey: .silenceHours)
        if let silenceHours, !Self.silenceHoursRange.contains(silenceHours) {
            throw DecodingError.dataCorruptedError(forKey: .silenceHours, in: container, debugDescription: "must be from 1 to 720 hours, or absent to leave it off")
        }
        queryLogDays = try container.decodeIfPresent(Int.self, forKey: .queryLogDays)
        if let queryLogDays, !Self.queryLogDaysRange.contains(queryLogDays) {
            throw DecodingError.dataCorruptedError(forKey: .queryLogDays, in: container, debugDescription: "must be from 1 to 90 days, or absent to keep no query log")
        }
        var networks: [IPNetwork] = []
        if container.contains(.networks) {
            var list = try container.nestedUnkeyedContainer(forKey: .networks)
            while !list.isAtEnd {
                // The path names the entry: the list's index moves on once an entry is read.
                let path = list.codingPath + [AnyCodingKey(intValue: list.currentIndex) ?? AnyCodingKey("\(list.currentIndex)")]
                guard networks.count < Self.maxNetworks else {
                    throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "at most \(Self.maxNetworks) networks"))
                }
                let text = try list.decode(String.self)
                guard let network = IPNetwork.parse(text) else {
                    throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "expected an address or a network such as 10.20.0.0/16, got \"\(text.prefix(60))\""))
                }
                networks.append(network)
            }
        }
        self.networks = networks
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        var nested = container.nestedContainer(keyedBy: AnyCodingKey.self, forKey: .actions)
        // Only the actions set: a class left to its default keeps following the default.
        for classification in Self.classes {
            if let action = actions[classification] { try nested.encode(action, forKey: AnyCodingKey(classification.rawValue)) }
        }
        try container.encode(allowList, forKey: .allowList)
        try container.encode(blockedAnswer, forKey: .blockedAnswer)
        try container.encode(blockedTTLSeconds, forKey: .blockedTTLSeconds)
        try container.encode(resolveAfterDays, forKey: .resolveAfterDays)
        try container.encodeIfPresent(silenceHours, forKey: .silenceHours)
        try container.encodeIfPresent(queryLogDays, forKey: .queryLogDays)
        if !networks.isEmpty { try container.encode(networks.map(\.description), forKey: .networks) }
    }
}
