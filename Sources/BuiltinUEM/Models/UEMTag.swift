import Fluent
import Foundation

final class UEMTag: Model, @unchecked Sendable {
    static let schema = "uem_tags"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "uuid") var uuid: UUID
    @Field(key: "name") var name: String
    @Field(key: "avatar") var avatar: String
    /// 1 device, 2 general.
    @Field(key: "type") var type: Int
    @Field(key: "organization_group_id") var organizationGroupID: Int

    init() {}

    init(name: String, avatar: String, type: Int, organizationGroupID: Int) {
        uuid = UUID()
        self.name = name
        self.avatar = avatar
        self.type = type
        self.organizationGroupID = organizationGroupID
    }
}

final class UEMDeviceTag: Model, @unchecked Sendable {
    static let schema = "uem_device_tags"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "tag_id") var tagID: Int
    @Field(key: "device_id") var deviceID: Int
    @Field(key: "date_tagged") var dateTagged: Date

    init() {}

    init(tagID: Int, deviceID: Int, dateTagged: Date) {
        self.tagID = tagID
        self.deviceID = deviceID
        self.dateTagged = dateTagged
    }
}
