import Fluent
import Foundation

/// A compliance policy: rules on device attributes (the MTD threat level among them), assigned to
/// smart groups, with the actions taken while a device breaks it.
final class UEMCompliancePolicy: Model, @unchecked Sendable {
    static let schema = "uem_compliance_policies"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "uuid") var uuid: UUID
    @Field(key: "name") var name: String
    /// `Any`, `Apple` or `Android`.
    @Field(key: "platform") var platform: String
    @Field(key: "organization_group_id") var organizationGroupID: Int
    /// JSON array of smart group ids.
    @Field(key: "assigned_smart_groups") var assignedSmartGroups: String
    /// JSON of `ComplianceDefinition` (rules, match mode, actions).
    @Field(key: "definition") var definition: String
    @Field(key: "active") var active: Bool

    init() {}
}

/// Where a device stands against one policy, so that changes show up as events and a tag the
/// policy added can be taken away again.
final class UEMDeviceCompliance: Model, @unchecked Sendable {
    static let schema = "uem_device_compliance"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "device_id") var deviceID: Int
    @Field(key: "policy_id") var policyID: Int
    @Field(key: "compliant") var compliant: Bool
    @Field(key: "checked_at") var checkedAt: Date
    /// JSON array of the action types taken (empty while compliant).
    @Field(key: "actions_taken") var actionsTaken: String

    init() {}
}
