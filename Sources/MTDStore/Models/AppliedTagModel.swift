import FluentKit
import Foundation
import SQLKit

/// A tag a UEM confirmed it holds for a device. Only accepted bulk items are recorded, so the
/// difference between desired and applied tags is exactly what remains to send. Keyed by the UEM
/// connection (see UEMConnectionKey): another UEM's records never count.
public final class AppliedTagModel: Model, @unchecked Sendable {
    public static let schema = "uem_connection_tags"

    @ID(key: .id) public var id: UUID?
    @Field(key: "connection") public var connection: String
    @Parent(key: "device_id") public var device: DeviceModel
    @Field(key: "tag_name") public var tagName: String
    @Field(key: "applied_at") public var appliedAt: Date

    public init() {}

    public init(connection: String, deviceID: UUID, tagName: String, appliedAt: Date) {
        self.connection = connection
        self.$device.id = deviceID
        self.tagName = tagName
        self.appliedAt = appliedAt
    }
}

/// Recording accepted tags in one statement: a bulk call accepts hundreds of devices at once.
public enum AppliedTags {
    public static func record(_ deviceIDs: [UUID], tag: String, connection: String, at date: Date, on database: any Database) async throws {
        guard !deviceIDs.isEmpty else { return }
        guard let sql = database as? any SQLDatabase else { throw HotQueryError.notSQL }
        var insert = sql.insert(into: AppliedTagModel.schema).columns("id", "connection", "device_id", "tag_name", "applied_at")
        for deviceID in deviceIDs { insert = insert.values([SQLBind(UUID()), SQLBind(connection), SQLBind(deviceID), SQLBind(tag), SQLBind(date)]) }
        // A tag already recorded (a pass that overlapped) stays as it is.
        try await insert.ignoringConflicts(with: ["connection", "device_id", "tag_name"]).run()
    }

    /// Records made before state was keyed by connection (migration M017) belong to the connection
    /// that is made next: it is the one they were made with.
    public static func adoptUnkeyed(into connection: String, on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw HotQueryError.notSQL }
        try await sql.raw("UPDATE uem_connection_tags SET connection = \(bind: connection) WHERE connection = ''").run()
        try await sql.raw("UPDATE devices SET uem_connection = \(bind: connection) WHERE uem_connection = ''").run()
    }
}
