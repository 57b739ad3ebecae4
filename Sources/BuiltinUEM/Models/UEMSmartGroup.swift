import Fluent
import Foundation

/// A smart group: devices of the managing organization group that match every given criterion
/// (any of the listed values within one criterion), plus additions, minus exclusions.
final class UEMSmartGroup: Model, @unchecked Sendable {
    static let schema = "uem_smart_groups"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "uuid") var uuid: UUID
    @Field(key: "name") var name: String
    @Field(key: "organization_group_id") var organizationGroupID: Int
    /// JSON of `SmartGroupCriteria`.
    @Field(key: "criteria") var criteria: String

    init() {}
}

struct SmartGroupCriteria: Codable, Sendable, Equatable {
    var tagIDs: [Int] = []
    var platforms: [String] = []
    var ownerships: [String] = []
    var models: [String] = []
    var operatingSystems: [String] = []
    var organizationGroupIDs: [Int] = []
    var deviceAdditions: [Int] = []
    var deviceExclusions: [Int] = []
    /// Version rules (`{DeviceType, Operator, Value}`); optional so that criteria stored before them still read.
    var osRules: [SmartGroupOSRule]?

    /// Whether the device belongs, given its tag ids (a device of a child organization group matches its parents).
    func includes(_ device: UEMDevice, tags: Set<Int>, tree: OrganizationTree) -> Bool {
        guard let id = device.id else { return false }
        if deviceExclusions.contains(id) { return false }
        if deviceAdditions.contains(id) { return true }
        let rules = osRules ?? []
        let hasCriteria = !(tagIDs.isEmpty && platforms.isEmpty && ownerships.isEmpty && models.isEmpty && operatingSystems.isEmpty && rules.isEmpty
            && organizationGroupIDs.isEmpty)
        guard hasCriteria else { return false }
        if !tagIDs.isEmpty, tags.isDisjoint(with: tagIDs) { return false }
        if !platforms.isEmpty, !platforms.contains(where: { $0.caseInsensitiveCompare(device.platform) == .orderedSame }) { return false }
        if !ownerships.isEmpty, !ownerships.contains(where: { Self.ownershipCode($0) == device.ownership }) { return false }
        if !models.isEmpty, !models.contains(where: { $0.caseInsensitiveCompare(device.model ?? "") == .orderedSame }) { return false }
        // One criterion: a version prefix or a rule, any of them.
        if !operatingSystems.isEmpty || !rules.isEmpty,
           !operatingSystems.contains(where: { (device.operatingSystem ?? "").hasPrefix($0) }), !rules.contains(where: { $0.matches(device) }) {
            return false
        }
        if !organizationGroupIDs.isEmpty, !organizationGroupIDs.contains(where: { tree.contains(device.organizationGroupID, within: $0) }) { return false }
        return true
    }

    static func ownershipCode(_ value: String) -> String {
        switch value {
        case "CorporateDedicated", "C": "C"
        case "EmployeeOwned", "E": "E"
        case "CorporateShared", "S": "S"
        default: value
        }
    }
}

/// Workspace ONE's operating system criterion: a platform and a version comparison.
struct SmartGroupOSRule: Codable, Sendable, Equatable {
    enum Comparison: String, CaseIterable {
        case equal = "Equal", notEqual = "NotEqual", greaterThan = "GreaterThan", greaterThanOrEqualTo = "GreaterThanOrEqualTo"
        case lessThan = "LessThan", lessThanOrEqualTo = "LessThanOrEqualTo"

        /// The vendor's spellings vary between versions (`Equals`, `EqualTo`, `GreaterThanOrEqual`).
        init?(spelled text: String) {
            let key = text.lowercased().replacingOccurrences(of: "_", with: "")
            switch key {
            case "equal", "equals", "equalto", "eq": self = .equal
            case "notequal", "notequals", "notequalto", "ne": self = .notEqual
            case "greaterthan", "gt": self = .greaterThan
            case "greaterthanorequalto", "greaterthanorequal", "ge", "gte": self = .greaterThanOrEqualTo
            case "lessthan", "lt": self = .lessThan
            case "lessthanorequalto", "lessthanorequal", "le", "lte": self = .lessThanOrEqualTo
            default: return nil
            }
        }
    }

    var DeviceType: String?
    var Operator: String
    var Value: String

    func matches(_ device: UEMDevice) -> Bool {
        if let type = DeviceType, !type.isEmpty, type.caseInsensitiveCompare(device.platform) != .orderedSame { return false }
        guard let version = device.operatingSystem, let comparison = Comparison(spelled: Operator) else { return false }
        let order = Self.compare(version, Value)
        switch comparison {
        case .equal: return order == 0
        case .notEqual: return order != 0
        case .greaterThan: return order > 0
        case .greaterThanOrEqualTo: return order >= 0
        case .lessThan: return order < 0
        case .lessThanOrEqualTo: return order <= 0
        }
    }

    /// Dotted versions compared component by component (17.4 < 17.10; a missing component is 0).
    static func compare(_ left: String, _ right: String) -> Int {
        let a = left.split(separator: ".").map { Int($0.prefix(9)) ?? 0 }, b = right.split(separator: ".").map { Int($0.prefix(9)) ?? 0 }
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0, y = index < b.count ? b[index] : 0
            if x != y { return x < y ? -1 : 1 }
        }
        return 0
    }
}
