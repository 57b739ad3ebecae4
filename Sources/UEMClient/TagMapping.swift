import Foundation
import MTDCore

/// Which UEM tag stands for which MTD state. The default is the seed article's table (with
/// "MTD – Medium Risk" where the article's own table wrongly says "Moderate Risk").
public struct TagMapping: Codable, Sendable, Equatable {
    public var pending: String?
    public var activated: String?
    public var deactivated: String?
    public var unreachable: String?
    public var disconnected: String?
    public var threatsPresent: String?
    public var lowRisk: String?
    public var mediumRisk: String?
    public var highRisk: String?
    public var secured: String?

    public init(
        pending: String? = "MTD – Pending", activated: String? = "MTD – Activated", deactivated: String? = "MTD – Deactivated",
        unreachable: String? = "MTD – Unreachable", disconnected: String? = "MTD – Disconnected", threatsPresent: String? = "MTD – Threats Present",
        lowRisk: String? = "MTD – Low Risk", mediumRisk: String? = "MTD – Medium Risk", highRisk: String? = "MTD – High Risk", secured: String? = "MTD – Secured"
    ) {
        self.pending = pending
        self.activated = activated
        self.deactivated = deactivated
        self.unreachable = unreachable
        self.disconnected = disconnected
        self.threatsPresent = threatsPresent
        self.lowRisk = lowRisk
        self.mediumRisk = mediumRisk
        self.highRisk = highRisk
        self.secured = secured
    }

    /// Every mapped tag name with the field it comes from.
    public var entries: [(field: String, tag: String)] {
        [("pending", pending), ("activated", activated), ("deactivated", deactivated), ("unreachable", unreachable),
         ("disconnected", disconnected), ("threatsPresent", threatsPresent), ("lowRisk", lowRisk), ("mediumRisk", mediumRisk),
         ("highRisk", highRisk), ("secured", secured)].compactMap { field, tag in tag.map { (field, $0) } }
    }

    /// A mapping from field name to tag, as forms send it; a field left out or blank gets no tag.
    public init(fields: [String: String]) {
        self.init(pending: nil, activated: nil, deactivated: nil, unreachable: nil, disconnected: nil, threatsPresent: nil,
                  lowRisk: nil, mediumRisk: nil, highRisk: nil, secured: nil)
        for (field, raw) in fields {
            let tag = raw.trimmingCharacters(in: .whitespaces)
            let value = tag.isEmpty ? nil : tag
            switch field {
            case "pending": pending = value
            case "activated": activated = value
            case "deactivated": deactivated = value
            case "unreachable": unreachable = value
            case "disconnected": disconnected = value
            case "threatsPresent": threatsPresent = value
            case "lowRisk": lowRisk = value
            case "mediumRisk": mediumRisk = value
            case "highRisk": highRisk = value
            case "secured": secured = value
            default: continue
            }
        }
    }

    /// The tags a device in this state should carry. Pure.
    public func desiredTags(activation: ActivationStatus, connection: ConnectionStatus, security: SecurityStatus) -> Set<String> {
        var tags: [String?] = []
        switch activation {
        case .pending: tags.append(pending)
        case .activated: tags.append(activated)
        case .deactivated: tags.append(deactivated)
        case .deleted: return []
        }
        if activation == .activated {
            switch connection {
            case .connected: break
            case .unreachable: tags.append(unreachable)
            case .disconnected: tags.append(disconnected)
            }
            switch security {
            case .secure: tags.append(secured)
            case .threatsLow: tags += [threatsPresent, lowRisk]
            case .threatsMedium: tags += [threatsPresent, mediumRisk]
            case .threatsHigh: tags += [threatsPresent, highRisk]
            }
        }
        return Set(tags.compactMap { $0 })
    }

    /// Tag names compare without regard to case, spacing or the kind of dash: "MTD - High Risk",
    /// "MTD – High Risk" and "MTD — High Risk" are the same tag.
    public static func normalized(_ name: String) -> String {
        let dashes: Set<Character> = ["-", "\u{2010}", "\u{2011}", "\u{2012}", "\u{2013}", "\u{2014}", "\u{2015}", "\u{2212}"]
        let unified = String(name.map { dashes.contains($0) ? "-" : $0 })
        return unified.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var field: String
        public var tag: String
        public var suggestion: String?

        public var description: String {
            "\(field): the UEM has no tag \"\(tag)\"" + (suggestion.map { "; did you mean \"\($0)\"?" } ?? "; create it, or save the mapping with createMissing")
        }
    }

    /// Checks every mapped name against the UEM's tags; each missing one names the closest existing tag.
    public func validate(against existing: [UEMTagInfo]) -> [Problem] {
        let known = Dictionary(existing.map { (Self.normalized($0.name), $0.name) }, uniquingKeysWith: { first, _ in first })
        return entries.compactMap { field, tag in
            guard known[Self.normalized(tag)] == nil else { return nil }
            return Problem(field: field, tag: tag, suggestion: Self.closest(to: tag, in: existing.map(\.name)))
        }
    }

    /// Closest existing tag by words: "MTD – Moderate Risk" → "MTD – Medium Risk" (same prefix and suffix, one word differs).
    static func closest(to name: String, in candidates: [String]) -> String? {
        let words = normalized(name).split(separator: " ")
        var best: (name: String, differing: Int, distance: Int)?
        for candidate in candidates {
            let other = normalized(candidate).split(separator: " ")
            guard other.count == words.count else { continue }
            let differing = zip(words, other).filter { $0 != $1 }.count
            guard differing <= max(1, words.count / 3) else { continue }
            let distance = Suggestion.editDistance(Array(normalized(name)), Array(normalized(candidate)))
            if let current = best, (current.differing, current.distance) <= (differing, distance) { continue }
            best = (candidate, differing, distance)
        }
        return best?.name ?? Suggestion.closest(to: name, in: candidates)
    }
}
