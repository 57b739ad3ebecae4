import FluentKit
import Foundation
import SQLKit

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

/// Recording accepted tags in one statement: a bulk call accepts hundreds of devices at once.
public enum AppliedTags {
    public static func record(_ deviceIDs: [UUID], tag: String, at date: Date, on database: any Database) async throws {
        guard !deviceIDs.isEmpty else { return }
        guard let sql = database as? any SQLDatabase else { throw HotQueryError.notSQL }
        var insert = sql.insert(into: AppliedTagModel.schema).columns("id", "device_id", "tag_name", "applied_at")
        for deviceID in deviceIDs { insert = insert.values([SQLBind(UUID()), SQLBind(deviceID), SQLBind(tag), SQLBind(date)]) }
        // A tag already recorded (a pass that overlapped) stays as it is.
        try await insert.ignoringConflicts(with: ["device_id", "tag_name"]).run()
    }
}
