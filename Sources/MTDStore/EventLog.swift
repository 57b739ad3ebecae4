import FluentKit
import Foundation
import SQLKit

/// The append-only event log. Events are appended in the same transaction as the change they
/// describe (transactional outbox); their ids are the stream positions consumers resume from.
public enum EventLog {
    public struct NewEvent: Sendable {
        public var type: EventType
        public var change: ChangeType
        public var actor: EventParty
        public var target: EventParty
        /// JSON text of the type block.
        public var payload: String

        public init(type: EventType, change: ChangeType, actor: EventParty, target: EventParty, payload: some Encodable) {
            self.type = type
            self.change = change
            self.actor = actor
            self.target = target
            self.payload = StoredJSON.text(payload)
        }
    }

    /// Appends events. On PostgreSQL, a transaction-scoped advisory lock makes ids commit in order,
    /// so a consumer reading "after id N" never skips an event that commits late.
    public static func append(_ events: [NewEvent], enterpriseID: UUID, on database: any Database, now: Date) async throws {
        guard !events.isEmpty else { return }
        if let sql = database as? any SQLDatabase, sql.dialect.name == "postgresql" {
            try await sql.raw("SELECT pg_advisory_xact_lock(7245001)").run()
        }
        let models = events.map { event -> EventModel in
            let model = EventModel()
            model.enterpriseID = enterpriseID
            model.type = event.type.rawValue
            model.changeType = event.change.rawValue
            model.createdAt = now
            model.actorType = event.actor.type
            model.actorID = event.actor.guid
            model.targetType = event.target.type
            model.targetID = event.target.guid ?? ""
            model.payload = event.payload
            return model
        }
        for model in models { try await model.create(on: database) }
    }

    /// Events after `position`, oldest first.
    public static func read(
        after position: Int, enterpriseID: UUID?, types: [EventType]? = nil, limit: Int, on database: any Database
    ) async throws -> [EventModel] {
        var query = EventModel.query(on: database).filter(\.$id > position)
        if let enterpriseID { query = query.filter(\.$enterpriseID == enterpriseID) }
        if let types, !types.isEmpty { query = query.filter(\.$type ~~ types.map(\.rawValue)) }
        return try await query.sort(\.$id, .ascending).limit(limit).all()
    }

    /// The newest event id (0 when the log is empty).
    public static func head(on database: any Database) async throws -> Int {
        try await EventModel.query(on: database).max(\.$id) ?? 0
    }
}

/// Durable consumer positions: at-least-once delivery, so consumers must be idempotent.
public enum ConsumerCursors {
    public static func position(of name: String, on database: any Database) async throws -> Int {
        try await ConsumerCursorModel.find(name, on: database)?.position ?? 0
    }

    public static func save(_ name: String, position: Int, on database: any Database) async throws {
        if let cursor = try await ConsumerCursorModel.find(name, on: database) {
            cursor.position = position
            try await cursor.update(on: database)
        } else {
            try await ConsumerCursorModel(name: name, position: position).create(on: database)
        }
    }
}

/// A cheap query that proves the database answers.
public enum MTDStoreProbe {
    public static func ping(_ database: any Database) async throws -> Int {
        try await EnterpriseModel.query(on: database).count()
    }
}
