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

    /// Whether the device belongs, given its tag ids (a device of a child organization group matches its parents).
    func includes(_ device: UEMDevice, tags: Set<Int>, tree: OrganizationTree) -> Bool {
        guard let id = device.id else { return false }
        if deviceExclusions.contains(id) { return false }
        if deviceAdditions.contains(id) { return true }
        let hasCriteria = !(tagIDs.isEmpty && platforms.isEmpty && ownerships.isEmpty && models.isEmpty && operatingSystems.isEmpty && organizationGroupIDs.isEmpty)
        guard hasCriteria else { return false }
        if !tagIDs.isEmpty, tags.isDisjoint(with: tagIDs) { return false }
        if !platforms.isEmpty, !platforms.contains(where: { $0.caseInsensitiveCompare(device.platform) == .orderedSame }) { return false }
        if !ownerships.isEmpty, !ownerships.contains(where: { Self.ownershipCode($0) == device.ownership }) { return false }
        if !models.isEmpty, !models.contains(where: { $0.caseInsensitiveCompare(device.model ?? "") == .orderedSame }) { return false }
        if !operatingSystems.isEmpty, !operatingSystems.contains(where: { (device.operatingSystem ?? "").hasPrefix($0) }) { return false }
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
