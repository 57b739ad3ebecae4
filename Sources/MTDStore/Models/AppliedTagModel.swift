import FluentKit
import Foundation

/// A tag the UEM confirmed it holds for a device. Only accepted bulk items are recorded, so the
/// difference between desired and applied tags is exactly what remains to send.
public final class AppliedTagModel: Model, @unchecked Sendable {
    public static let schema = "uem_applied_tags"

    @ID(key: .id) public var id: UUID?
    @Parent(key: "device_id") public var device: DeviceModel
    @Field(key: "tag_name") public var tagName: String
    @Field(key: "applied_at") public var appliedAt: Date

    public init() {}

    public init(deviceID: UUID, tagName: String, appliedAt: Date) {
        self.$device.id = deviceID
        self.tagName = tagName
        self.appliedAt = appliedAt
    }
}
