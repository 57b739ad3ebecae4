import FluentKit
import Foundation

/// How far a durable consumer (UEM sync, stream, automations) has processed the event log.
public final class ConsumerCursorModel: Model, @unchecked Sendable {
    public static let schema = "consumer_cursors"

    @ID(custom: "name", generatedBy: .user) public var id: String?
    @Field(key: "position") public var position: Int
    @Timestamp(key: "updated_at", on: .update) public var updatedAt: Date?

    public init() {}

    public init(name: String, position: Int) {
        self.id = name
        self.position = position
    }
}
