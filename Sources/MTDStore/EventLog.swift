import FluentKit
import Foundation
import SQLKit
import Synchronization

/// The append-only event log. Events are appended in the same transaction as the change they
/// describe (transactional outbox); their ids are the stream positions consumers resume from.
public enum EventLog {
    /// The PostgreSQL channel every append notifies at commit; each replica listens on it to wake
    /// its consumers.
    public static let notificationChannel = "openmtd_events"

    /// Counts appends in this process. A writer compares it before and after a transaction to learn
    /// whether it committed events, and then wakes the consumers (see WriteGate).
    public static let appends = Atomic<UInt64>(0)
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

    /// An event to append, with its enterprise and time (events of several check-ins go in one statement).
    public struct Entry: Sendable {
        public var enterpriseID: UUID
        public var createdAt: Date
        public var event: NewEvent

        public init(enterpriseID: UUID, createdAt: Date, event: NewEvent) {
            self.enterpriseID = enterpriseID
            self.createdAt = createdAt
            self.event = event
        }
    }

    /// Appends events. On PostgreSQL, a transaction-scoped advisory lock makes ids commit in order,
    /// so a consumer reading "after id N" never skips an event that commits late.
    public static func append(_ events: [NewEvent], enterpriseID: UUID, on database: any Database, now: Date) async throws {
        try await append(events.map { Entry(enterpriseID: enterpriseID, createdAt: now, event: $0) }, on: database)
    }

    public static func append(_ entries: [Entry], on database: any Database) async throws {
        guard !entries.isEmpty else { return }
        guard let sql = database as? any SQLDatabase else {
            throw EventLogError.notSQL
        }
        if sql.dialect.name == "postgresql" {
            try await sql.raw("SELECT pg_advisory_xact_lock(7245001)").run()
            // Delivered when the transaction commits, and only then; PostgreSQL folds repeats.
            try await sql.raw("SELECT pg_notify(\(bind: notificationChannel), '')").run()
        }
        // Multi-row INSERTs: Fluent's one-by-one model creation cost more than the rest of a
        // threat-opening check-in. 9 parameters a row, 500 rows a statement, within every limit.
        for start in stride(from: 0, to: entries.count, by: 500) {
            var insert = sql.insert(into: EventModel.schema)
                .columns("enterprise_id", "type", "change_type", "created_at", "actor_type", "actor_id", "target_type", "target_id", "payload")
            for entry in entries[start..<min(start + 500, entries.count)] {
                let event = entry.event
                insert = insert.values([
                    SQLBind(entry.enterpriseID), SQLBind(event.type.rawValue), SQLBind(event.change.rawValue), SQLBind(entry.createdAt),
                    SQLBind(event.actor.type), SQLBind(event.actor.guid), SQLBind(event.target.type), SQLBind(event.target.guid ?? ""),
                    SQLBind(event.payload),
                ])
            }
            try await insert.run()
        }
        appends.add(1, ordering: .relaxed)
    }

    /// Events after `position` (and at most `last`), oldest first.
    public static func read(
        after position: Int, upTo last: Int? = nil, enterpriseID: UUID?, types: [EventType]? = nil, limit: Int, on database: any Database
    ) async throws -> [EventModel] {
        var query = EventModel.query(on: database).filter(\.$id > position)
        if let last { query = query.filter(\.$id <= last) }
        if let enterpriseID { query = query.filter(\.$enterpriseID == enterpriseID) }
        if let types, !types.isEmpty { query = query.filter(\.$type ~~ types.map(\.rawValue)) }
        return try await query.sort(\.$id, .ascending).limit(limit).all()
    }

    /// When the oldest event after `position` was written (nil when there is none): how far behind a
    /// consumer at `position` is, in time.
    public static func oldestUnread(after position: Int, types: [EventType]?, on database: any Database) async throws -> Date? {
        var query = EventModel.query(on: database).filter(\.$id > position)
        if let types, !types.isEmpty { query = query.filter(\.$type ~~ types.map(\.rawValue)) }
        return try await query.sort(\.$id, .ascending).first()?.createdAt
    }

    /// The position of the last event written before `time` (0 when there is none): a stream that
    /// starts at `time` reads after it.
    public static func lastPosition(before time: Date, on database: any Database) async throws -> Int {
        guard let sql = database as? any SQLDatabase else { throw EventLogError.notSQL }
        return try await sql.raw("SELECT MAX(id) AS position FROM events WHERE created_at < \(bind: time)").first()?
            .decode(column: "position", as: Int?.self) ?? 0
    }

    /// The newest event id (0 when the log is empty).
    public static func head(on database: any Database) async throws -> Int {
        // Plain SQL: consumers ask after every commit, and Fluent's model reflection is the costly part.
        guard let sql = database as? any SQLDatabase else { throw EventLogError.notSQL }
        return try await sql.raw("SELECT MAX(id) AS head FROM events").first()?.decode(column: "head", as: Int?.self) ?? 0
    }
}

enum EventLogError: Error, CustomStringConvertible {
    case notSQL
    var description: String { "the event log needs an SQL database" }
}

/// Durable consumer positions: at-least-once delivery, so consumers must be idempotent.
public enum ConsumerCursors {
    public static func position(of name: String, on database: any Database) async throws -> Int {
        try await saved(name, on: database) ?? 0
    }

    /// The saved position, nil when the consumer has none yet.
    public static func saved(_ name: String, on database: any Database) async throws -> Int? {
        try await ConsumerCursorModel.find(name, on: database)?.position
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
