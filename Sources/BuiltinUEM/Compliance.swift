import Foundation

/// What a compliance policy checks and does. A rule describes the non-compliant condition, e.g.
/// "MTDThreatLevel GreaterThanOrEqual High"; a device breaks the policy when any rule holds (all,
/// with `MatchAll`). While it does, the actions apply: `MarkNonCompliant` makes the device's
/// ComplianceStatus NonCompliant (a policy without it only reports), `RemoveProfiles` takes the
/// listed profiles away (all of them when none are listed), `AddTag` tags the device (and untags it
/// once compliant again), `Notify` records a notification for the listed address.
struct ComplianceDefinition: Codable, Sendable, Equatable {
    var MatchAll: Bool
    var Rules: [ComplianceRule]
    var Actions: [ComplianceAction]
}

struct ComplianceRule: Codable, Sendable, Equatable {
    var Attribute: String
    var Operator: String
    var Value: String?

    enum Field: String, CaseIterable {
        case mtdThreatLevel = "MTDThreatLevel"
        case compromisedStatus = "CompromisedStatus"
        case operatingSystem = "OperatingSystem"
        case model = "Model"
        case platform = "Platform"
    }

    enum Comparison: String, CaseIterable {
        case equals = "Equals"
        case notEquals = "NotEquals"
        case greaterThanOrEqual = "GreaterThanOrEqual"
        case lessThan = "LessThan"
        case notReported = "NotReported"
    }

    /// MTD threat levels in order; `None` means the MTD reported the device as secure.
    static let threatLevels = ["None", "Low", "Medium", "High"]

    /// Why the rule cannot be used, in words that say how to fix it; nil when it is valid.
    func problem() -> String? {
        guard let attribute = Field(rawValue: Attribute) else {
            return "Unknown rule attribute \(self.Attribute); use one of \(Field.allCases.map(\.rawValue).joined(separator: ", "))."
        }
        guard let op = Comparison(rawValue: Operator) else {
            return "Unknown rule operator \(self.Operator); use one of \(Comparison.allCases.map(\.rawValue).joined(separator: ", "))."
        }
        let allowed: [Comparison] = switch attribute {
        case .mtdThreatLevel: [.equals, .notEquals, .greaterThanOrEqual, .notReported]
        case .compromisedStatus: [.equals]
        case .operatingSystem: [.equals, .notEquals, .lessThan]
        case .model, .platform: [.equals, .notEquals]
        }
        guard allowed.contains(op) else {
            return "\(attribute.rawValue) rules take \(allowed.map(\.rawValue).joined(separator: ", ")), not \(op.rawValue)."
        }
        if op == .notReported { return nil }
        guard let value = Value, !value.isEmpty else { return "The \(attribute.rawValue) rule needs a Value." }
        switch attribute {
        case .mtdThreatLevel where Self.level(value) == nil:
            return "MTDThreatLevel values are \(Self.threatLevels.joined(separator: ", ")), not \(value)."
        case .compromisedStatus where !["true", "false"].contains(value.lowercased()):
            return "CompromisedStatus values are true or false, not \(value)."
        default:
            return nil
        }
    }

    static func level(_ name: String) -> Int? {
        threatLevels.firstIndex { $0.caseInsensitiveCompare(name) == .orderedSame }
    }

    /// Whether the device is in the condition the rule describes.
    func holds(for device: DeviceFacts) -> Bool {
        guard let attribute = Field(rawValue: Attribute), let op = Comparison(rawValue: Operator) else { return false }
        let value = Value ?? ""
        switch attribute {
        case .mtdThreatLevel:
            guard let reported = device.mtdThreatLevel.flatMap(Self.level) else { return op == .notReported }
            guard let wanted = Self.level(value) else { return false }
            switch op {
            case .equals: return reported == wanted
            case .notEquals: return reported != wanted
            case .greaterThanOrEqual: return reported >= wanted
            case .lessThan, .notReported: return false
            }
        case .compromisedStatus:
            return device.compromised == (value.lowercased() == "true")
        case .operatingSystem:
            let os = device.operatingSystem ?? ""
            switch op {
            case .equals: return os == value
            case .notEquals: return os != value
            case .lessThan: return Self.compareVersions(os, value) == .orderedAscending
            default: return false
            }
        case .model, .platform:
            let actual = (attribute == .model ? device.model : device.platform) ?? ""
            let same = actual.caseInsensitiveCompare(value) == .orderedSame
            return op == .equals ? same : !same
        }
    }

    /// Dotted versions compare numerically: 9.3 < 17.0 < 17.0.1.
    static func compareVersions(_ lhs: String, _ rhs: String) -> ComparisonResult {
        let left = lhs.split(separator: ".").map { Int($0) ?? 0 }
        let right = rhs.split(separator: ".").map { Int($0) ?? 0 }
        for index in 0..<max(left.count, right.count) {
            let a = index < left.count ? left[index] : 0
            let b = index < right.count ? right[index] : 0
            if a != b { return a < b ? .orderedAscending : .orderedDescending }
        }
        return .orderedSame
    }
}

struct ComplianceAction: Codable, Sendable, Equatable {
    var kind: String
    var ProfileIds: [Int]?
    var TagId: Int?
    var Email: String?

    enum CodingKeys: String, CodingKey {
        case kind = "Type"
        case ProfileIds, TagId, Email
    }

    enum Kind: String, CaseIterable {
        case markNonCompliant = "MarkNonCompliant"
        case removeProfiles = "RemoveProfiles"
        case addTag = "AddTag"
        case notify = "Notify"
    }

    func problem() -> String? {
        guard let parsed = Kind(rawValue: kind) else {
            return "Unknown action type \(kind); use one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))."
        }
        switch parsed {
        case .addTag where TagId == nil: return "The AddTag action needs a TagId."
        case .notify where (Email ?? "").isEmpty: return "The Notify action needs an Email."
        default: return nil
        }
    }
}

/// The device attributes compliance rules read.
struct DeviceFacts: Sendable {
    var platform: String?
    var model: String?
    var operatingSystem: String?
    var compromised: Bool
    var mtdThreatLevel: String?

    init(_ device: UEMDevice) {
        platform = device.platform
        model = device.model
        operatingSystem = device.operatingSystem
        compromised = device.compromised
        mtdThreatLevel = device.mtdThreatLevel
    }
}

extension ComplianceDefinition {
    /// Whether the device breaks the policy.
    func isBroken(by device: DeviceFacts) -> Bool {
        guard !Rules.isEmpty else { return false }
        return MatchAll ? Rules.allSatisfy { $0.holds(for: device) } : Rules.contains { $0.holds(for: device) }
    }

    func actions(_ kind: ComplianceAction.Kind) -> [ComplianceAction] {
        Actions.filter { $0.kind == kind.rawValue }
    }
}
