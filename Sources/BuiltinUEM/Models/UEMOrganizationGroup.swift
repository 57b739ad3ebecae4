import Fluent
import Foundation

/// An organization group: the tree everything in the UEM belongs to.
final class UEMOrganizationGroup: Model, @unchecked Sendable {
    static let schema = "uem_organization_groups"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "uuid") var uuid: UUID
    @Field(key: "name") var name: String
    /// The human group id (WS1 "GroupId"), e.g. `openmtd`.
    @Field(key: "group_id") var groupID: String
    @OptionalField(key: "parent_id") var parentID: Int?
    @Field(key: "type") var type: String
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}

    init(name: String, groupID: String, parentID: Int?, type: String) {
        uuid = UUID()
        self.name = name
        self.groupID = groupID
        self.parentID = parentID
        self.type = type
    }
}
