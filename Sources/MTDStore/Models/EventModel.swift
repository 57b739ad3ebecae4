import FluentKit
import Foundation

/// One entry of the append-only event log. The id is the stream position consumers resume from.
public final class EventModel: Model, @unchecked Sendable {
    public static let schema = "events"

    @ID(custom: "id", generatedBy: .database) public var id: Int?
    @Field(key: "enterprise_id") public var enterpriseID: UUID
    /// DEVICE, THREAT or AUDIT.
    @Field(key: "type") public var type: String
    /// CREATED, UPDATED or DELETED.
    @Field(key: "change_type") public var changeType: String
    @Field(key: "created_at") public var createdAt: Date
    @Field(key: "actor_type") public var actorType: String
    @OptionalField(key: "actor_id") public var actorID: String?
    @Field(key: "target_type") public var targetType: String
    @Field(key: "target_id") public var targetID: String
    /// The type block (`device`, `threat` or `audit`) in Lookout v2 shape, JSON.
    @Field(key: "payload") public var payload: String

    public init() {}

    /// A stored event read as a plain row.
    public init(_ row: EventLog.Row) {
        id = row.id
        enterpriseID = row.enterpriseID
        type = row.type
        changeType = row.changeType
        createdAt = row.createdAt
        actorType = row.actorType
        actorID = row.actorID
        targetType = row.targetType
        targetID = row.targetID
        payload = row.payload
        // As if Fluent had read it: saving it again would update, not insert.
        $id.exists = true
    }
}

extension EventModel {
    /// For an AUDIT event, what it audits (`CLASSIFICATION_POLICY`, `UEM_CONNECTION`, …); nil for
    /// other events and for a payload that cannot be read.
    public var auditType: String? {
        guard type == EventType.audit.rawValue else { return nil }
        return (try? JSONDecoder().decode(AuditPayload.self, from: Data(payload.utf8)))?.type
    }
}
