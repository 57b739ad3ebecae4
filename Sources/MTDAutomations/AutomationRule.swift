import Foundation
import MTDCore

/// An automation rule as admins write it (`POST /api/v1/automations`): what starts it, what must
/// also hold, and what it does, in order. Unknown fields are refused with the closest known name, so
/// a misspelt filter never silently widens a rule that can lock or wipe devices.
public struct AutomationRule: Codable, Sendable, Equatable {
    public var name: String
    public var enabled: Bool
    public var trigger: Trigger
    public var conditions: Conditions?
    public var actions: [Action]
    /// At most one run of this rule per device within this many seconds (default an hour), so that a
    /// flapping device does not get fifty e-mails.
    public var throttleSeconds: Int?
    /// Collect the triggering events and run the actions once a day with all of them (e-mail and
    /// webhook actions only), instead of once per event.
    public var digest: Digest?

    public static let fields = ["name", "enabled", "trigger", "conditions", "actions", "throttleSeconds", "digest"]
    public static let defaultThrottleSeconds = 3_600

    /// The throttle in force: the rule's own, else an hour (none for a digest, which collects every event).
    public var effectiveThrottleSeconds: Int { throttleSeconds ?? (digest == nil ? Self.defaultThrottleSeconds : 0) }

    public init(name: String, enabled: Bool, trigger: Trigger, conditions: Conditions? = nil, actions: [Action], throttleSeconds: Int? = nil,
                digest: Digest? = nil) {
        self.digest = digest
        self.name = name
        self.enabled = enabled
        self.trigger = trigger
        self.conditions = conditions
        self.actions = actions
        self.throttleSeconds = throttleSeconds
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: Self.fields)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
        trigger = try container.decode(Trigger.self, forKey: .trigger)
        conditions = try container.decodeIfPresent(Conditions.self, forKey: .conditions)
        actions = try container.decode([Action].self, forKey: .actions)
        throttleSeconds = try container.decodeIfPresent(Int.self, forKey: .throttleSeconds)
        digest = try container.decodeIfPresent(Digest.self, forKey: .digest)
    }

    /// Once a day at `at` (`HH:MM`, UTC), covering the day before it.
    public struct Digest: Codable, Sendable, Equatable {
        public var at: String

        public static let fields = ["at"]

        public init(at: String) {
            self.at = at
        }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: Self.fields)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            at = try container.decode(String.self, forKey: .at)
        }
    }

    /// Which events start the rule. Every filter given must hold; an absent filter holds for all.
    public struct Trigger: Codable, Sendable, Equatable {
        public var type: EventKind
        /// CREATED (a threat opened, a device added) or UPDATED; absent: both.
        public var change: Change?
        public var classifications: [ThreatClassification]?
        public var minimumSeverity: Severity?
        public var threatTypes: [ThreatType]?
        public var platforms: [Platform]?
        public var deploymentModes: [DeploymentMode]?
        /// DEVICE events: the device's connection status became this one (e.g. DISCONNECTED).
        public var connectionTo: ConnectionStatus?
        /// DEVICE events: the device's security status became this one (e.g. THREATS_HIGH).
        public var securityStatusTo: SecurityStatus?
        /// The device carries at least one of these UEM tags, as the UEM says when the event arrives.
        public var uemTags: [String]?
        /// The device is a member of at least one of these UEM smart groups (numeric ids).
        public var uemSmartGroups: [Int]?

        public static let fields = ["type", "change", "classifications", "minimumSeverity", "threatTypes", "platforms", "deploymentModes",
                                    "connectionTo", "securityStatusTo", "uemTags", "uemSmartGroups"]

        /// Whether the UEM must be asked about the device's groups (after the pure match).
        public var filtersByDeviceGroup: Bool { uemTags != nil || uemSmartGroups != nil }

        public init(type: EventKind, change: Change? = nil, classifications: [ThreatClassification]? = nil, minimumSeverity: Severity? = nil,
                    threatTypes: [ThreatType]? = nil, platforms: [Platform]? = nil, deploymentModes: [DeploymentMode]? = nil,
                    connectionTo: ConnectionStatus? = nil, securityStatusTo: SecurityStatus? = nil) {
            self.type = type
            self.change = change
            self.classifications = classifications
            self.minimumSeverity = minimumSeverity
            self.threatTypes = threatTypes
            self.platforms = platforms
            self.deploymentModes = deploymentModes
            self.connectionTo = connectionTo
            self.securityStatusTo = securityStatusTo
        }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: Self.fields)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            type = try container.decode(EventKind.self, forKey: .type)
            change = try container.decodeIfPresent(Change.self, forKey: .change)
            classifications = try container.decodeIfPresent([ThreatClassification].self, forKey: .classifications)
            minimumSeverity = try container.decodeIfPresent(Severity.self, forKey: .minimumSeverity)
            threatTypes = try container.decodeIfPresent([ThreatType].self, forKey: .threatTypes)
            platforms = try container.decodeIfPresent([Platform].self, forKey: .platforms)
            deploymentModes = try container.decodeIfPresent([DeploymentMode].self, forKey: .deploymentModes)
            connectionTo = try container.decodeIfPresent(ConnectionStatus.self, forKey: .connectionTo)
            securityStatusTo = try container.decodeIfPresent(SecurityStatus.self, forKey: .securityStatusTo)
            uemTags = try container.decodeIfPresent([String].self, forKey: .uemTags)
            uemSmartGroups = try container.decodeIfPresent([Int].self, forKey: .uemSmartGroups)
        }
    }

    public enum EventKind: String, Codable, Sendable, CaseIterable, WireEnum {
        case threat = "THREAT"
        case device = "DEVICE"
    }

    public enum Change: String, Codable, Sendable, CaseIterable, WireEnum {
        case created = "CREATED"
        case updated = "UPDATED"
    }

    /// What must also hold before the actions run.
    public struct Conditions: Codable, Sendable, Equatable {
        /// THREAT rules: the actions run this many seconds after the threat opened, and only if it is
        /// still open then (e.g. 86,400: unresolved after a day).
        public var stillOpenAfterSeconds: Int?
        /// DEVICE rules on a transition (`connectionTo`, `securityStatusTo`): the actions run this
        /// many seconds after the event, and only if the device is still there then: for
        /// `connectionTo`, it has not checked in since (still not CONNECTED); for `securityStatusTo`,
        /// its security status is still that one. Fail closed: UNREACHABLE, still silent two days later.
        public var stillInStateAfterSeconds: Int?
        /// The rule fires only when this many of its events for the device fell within `withinSeconds`.
        public var count: Int?
        public var withinSeconds: Int?
        /// Only between these times of day (`HH:MM`, UTC; `from` after `to` spans midnight).
        public var timeOfDay: TimeWindow?

        public static let fields = ["stillOpenAfterSeconds", "stillInStateAfterSeconds", "count", "withinSeconds", "timeOfDay"]

        public init(stillOpenAfterSeconds: Int? = nil, stillInStateAfterSeconds: Int? = nil, count: Int? = nil, withinSeconds: Int? = nil,
                    timeOfDay: TimeWindow? = nil) {
            self.stillOpenAfterSeconds = stillOpenAfterSeconds
            self.stillInStateAfterSeconds = stillInStateAfterSeconds
            self.count = count
            self.withinSeconds = withinSeconds
            self.timeOfDay = timeOfDay
        }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: Self.fields)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            stillOpenAfterSeconds = try container.decodeIfPresent(Int.self, forKey: .stillOpenAfterSeconds)
            stillInStateAfterSeconds = try container.decodeIfPresent(Int.self, forKey: .stillInStateAfterSeconds)
            count = try container.decodeIfPresent(Int.self, forKey: .count)
            withinSeconds = try container.decodeIfPresent(Int.self, forKey: .withinSeconds)
            timeOfDay = try container.decodeIfPresent(TimeWindow.self, forKey: .timeOfDay)
        }
    }

    public struct TimeWindow: Codable, Sendable, Equatable {
        public var from: String
        public var to: String

        public init(from: String, to: String) {
            self.from = from
            self.to = to
        }

        /// Minutes after midnight of `HH:MM`; nil for anything else.
        public static func minutes(_ text: String) -> Int? {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
                  let hours = Int(parts[0]), let minutes = Int(parts[1]), (0..<24).contains(hours), (0..<60).contains(minutes)
            else { return nil }
            return hours * 60 + minutes
        }
    }

    /// One step of a rule: a webhook, a command through the UEM, or an e-mail.
    public enum Action: Codable, Sendable, Equatable {
        case webhook(Webhook)
        case uem(UEMAction)
        case email(Email)

        public static let kinds = ["webhook", "uem", "email"]

        public var kind: String {
            switch self {
            case .webhook: "webhook"
            case .uem: "uem"
            case .email: "email"
            }
        }

        /// Wipes: an owner must save the rule, and the rule must confirm it by name.
        public var isDestructive: Bool {
            if case .uem(let action) = self { return action.command.isDestructive }
            return false
        }

        private enum TypeKey: String, CodingKey { case type }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: TypeKey.self)
            let type = try container.decode(String.self, forKey: .type)
            switch type {
            case "webhook":
                self = .webhook(try Webhook(from: decoder))
            case "uem":
                self = .uem(try UEMAction(from: decoder))
            case "email":
                self = .email(try Email(from: decoder))
            default:
                let hint = Suggestion.closest(to: type, in: Self.kinds).map { "; did you mean \"\($0)\"?" } ?? ""
                throw DecodingError.dataCorruptedError(
                    forKey: .type, in: container, debugDescription: "unknown action type \"\(type)\"\(hint); expected one of \(Self.kinds.joined(separator: ", "))")
            }
        }

        public func encode(to encoder: any Encoder) throws {
            switch self {
            case .webhook(let webhook): try webhook.encode(to: encoder)
            case .uem(let action): try action.encode(to: encoder)
            case .email(let email): try email.encode(to: encoder)
            }
        }
    }

    /// A command to the device through the UEM the enterprise is connected to (Workspace ONE, or
    /// the built-in UEM, which answers the same calls).
    public struct UEMAction: Codable, Sendable, Equatable {
        public var command: UEMCommand
        /// The text of a `message`.
        public var message: String?
        /// The UEM tag `addTag` and `removeTag` set or clear (not one of the MTD's mapped tags, which
        /// tag sync owns).
        public var tag: String?
        /// The compliance threat level `setThreatLevel` reports.
        public var level: ThreatLevel?
        /// For a wipe: the command's name again (`"confirm": "enterpriseWipe"`), so that no one
        /// wipes devices with a copied rule by accident.
        public var confirm: String?

        public static let fields = ["type", "command", "message", "tag", "level", "confirm"]

        public init(command: UEMCommand, message: String? = nil, tag: String? = nil, level: ThreatLevel? = nil, confirm: String? = nil) {
            self.command = command
            self.message = message
            self.tag = tag
            self.level = level
            self.confirm = confirm
        }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: Self.fields)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            command = try container.decode(UEMCommand.self, forKey: .command)
            message = try container.decodeIfPresent(String.self, forKey: .message)
            tag = try container.decodeIfPresent(String.self, forKey: .tag)
            level = try container.decodeIfPresent(ThreatLevel.self, forKey: .level)
            confirm = try container.decodeIfPresent(String.self, forKey: .confirm)
        }

        private enum CodingKeys: String, CodingKey { case type, command, message, tag, level, confirm }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode("uem", forKey: .type)
            try container.encode(command, forKey: .command)
            try container.encodeIfPresent(message, forKey: .message)
            try container.encodeIfPresent(tag, forKey: .tag)
            try container.encodeIfPresent(level, forKey: .level)
            try container.encodeIfPresent(confirm, forKey: .confirm)
        }
    }

    public enum UEMCommand: String, Codable, Sendable, CaseIterable, WireEnum {
        case lock
        case enterpriseWipe
        case deviceWipe
        case syncDevice
        case message
        case addTag
        case removeTag
        case setThreatLevel

        public var isDestructive: Bool { self == .enterpriseWipe || self == .deviceWipe }
    }

    /// The compliance threat levels a UEM with the MTD threat-level capability accepts.
    public enum ThreatLevel: String, Codable, Sendable, CaseIterable, WireEnum {
        case none = "NONE"
        case low = "LOW"
        case medium = "MEDIUM"
        case high = "HIGH"
    }

    /// An e-mail through the enterprise's SMTP relay: to the device's user (the remediation steps
    /// for the threat's classification, in plain words), to the enterprise's admins (the same steps
    /// and the event's facts), or to the listed addresses (as to admins).
    public struct Email: Codable, Sendable, Equatable {
        public var to: EmailRecipients
        /// For `to: addresses`.
        public var addresses: [String]?
        /// A paragraph of the rule author's own, put before the steps (a help-desk number).
        public var note: String?

        public static let fields = ["type", "to", "addresses", "note"]

        public init(to: EmailRecipients, addresses: [String]? = nil, note: String? = nil) {
            self.to = to
            self.addresses = addresses
            self.note = note
        }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: Self.fields)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            to = try container.decode(EmailRecipients.self, forKey: .to)
            addresses = try container.decodeIfPresent([String].self, forKey: .addresses)
            note = try container.decodeIfPresent(String.self, forKey: .note)
        }

        private enum CodingKeys: String, CodingKey { case type, to, addresses, note }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode("email", forKey: .type)
            try container.encode(to, forKey: .to)
            try container.encodeIfPresent(addresses, forKey: .addresses)
            try container.encodeIfPresent(note, forKey: .note)
        }
    }

    public enum EmailRecipients: String, Codable, Sendable, CaseIterable, WireEnum {
        /// The e-mail address the device was activated with.
        case deviceUser
        /// Every owner and analyst of the enterprise.
        case admins
        /// The rule's `addresses`.
        case addresses
    }

    /// POSTs the event to `url`, signed with `secret` (`X-OpenMTD-Signature`), in one of three shapes.
    public struct Webhook: Codable, Sendable, Equatable {
        public var url: String
        public var secret: String
        public var format: WebhookFormat

        public static let fields = ["type", "url", "secret", "format"]

        public init(url: String, secret: String, format: WebhookFormat = .json) {
            self.url = url
            self.secret = secret
            self.format = format
        }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: Self.fields)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            url = try container.decode(String.self, forKey: .url)
            secret = try container.decode(String.self, forKey: .secret)
            format = try container.decodeIfPresent(WebhookFormat.self, forKey: .format) ?? .json
        }

        private enum CodingKeys: String, CodingKey { case type, url, secret, format }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode("webhook", forKey: .type)
            try container.encode(url, forKey: .url)
            try container.encode(secret, forKey: .secret)
            try container.encode(format, forKey: .format)
        }
    }

    public enum WebhookFormat: String, Codable, Sendable, CaseIterable, WireEnum {
        /// The Lookout v2 event, the rule and the device summary.
        case json
        /// Slack's incoming-webhook message (`text` and `blocks`).
        case slack
        /// A Microsoft Teams incoming-webhook message card.
        case teams
    }
}
