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
        // Through plain rows: every consumer reads every event it acts on, and Fluent's decoding of
        // models cost the check-ins a third of their rate once the stream fan-out read them too.
        try await rows(after: position, upTo: last, enterpriseID: enterpriseID, types: types, limit: limit, on: database).map(EventModel.init)
    }

    /// One event as stored, read without Fluent's model machinery (replays read a million of them).
    public struct Row: Sendable {
        public var id: Int
        public var enterpriseID: UUID
        public var type: String
        public var changeType: String
        public var createdAt: Date
        public var actorType: String
        public var actorID: String?
        public var targetType: String
        public var targetID: String
        public var payload: String

        public init(
            id: Int, enterpriseID: UUID, type: String, changeType: String, createdAt: Date, actorType: String, actorID: String?,
            targetType: String, targetID: String, payload: String
        ) {
            self.id = id
            self.enterpriseID = enterpriseID
            self.type = type
            self.changeType = changeType
            self.createdAt = createdAt
            self.actorType = actorType
            self.actorID = actorID
            self.targetType = targetType
            self.targetID = targetID
            self.payload = payload
        }
    }

    /// `read`, as plain rows.
    public static func rows(
        after position: Int, upTo last: Int? = nil, enterpriseID: UUID?, types: [EventType]? = nil, limit: Int, on database: any Database
    ) async throws -> [Row] {
        guard let sql = database as? any SQLDatabase else { throw EventLogError.notSQL }
        if enterpriseID == nil, types?.isEmpty ?? true,
           let rows = try await PostgresHotQueries.events(after: position, upTo: last ?? Int.max, limit: limit, on: database) {
            return rows
        }
        var select = sql.select()
            .columns("id", "enterprise_id", "type", "change_type", "created_at", "actor_type", "actor_id", "target_type", "target_id", "payload")
            .from(EventModel.schema)
            .where("id", .greaterThan, SQLBind(position))
        if let last { select = select.where("id", .lessThanOrEqual, SQLBind(last)) }
        if let enterpriseID { select = select.where("enterprise_id", .equal, SQLBind(enterpriseID)) }
        if let types, !types.isEmpty { select = select.where("type", .in, SQLBind.group(types.map(\.rawValue))) }
        // SQLite keeps UUIDs as text, and Foundation parses UUID text with sscanf: at a million
        // events that parse was the largest single cost of a replay. PostgreSQL sends 16 bytes.
        let textUUIDs = sql.dialect.name != "postgresql"
        return try await select.orderBy("id").limit(limit).all().map { row in
            let enterpriseID: UUID
            if textUUIDs {
                let text = try row.decode(column: "enterprise_id", as: String.self)
                guard let parsed = UUIDText.parse(text) else { throw EventLogError.badUUID(text) }
                enterpriseID = parsed
            } else {
                enterpriseID = try row.decode(column: "enterprise_id", as: UUID.self)
            }
            return Row(
                id: try row.decode(column: "id", as: Int.self), enterpriseID: enterpriseID,
                type: try row.decode(column: "type", as: String.self), changeType: try row.decode(column: "change_type", as: String.self),
                createdAt: try row.decode(column: "created_at", as: Date.self), actorType: try row.decode(column: "actor_type", as: String.self),
                actorID: try row.decode(column: "actor_id", as: String?.self), targetType: try row.decode(column: "target_type", as: String.self),
                targetID: try row.decode(column: "target_id", as: String.self), payload: try row.decode(column: "payload", as: String.self))
        }
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

    /// The oldest event id still in the log (nil when the log is empty).
    public static func oldest(on database: any Database) async throws -> Int? {
        guard let sql = database as? any SQLDatabase else { throw EventLogError.notSQL }
        return try await sql.raw("SELECT MIN(id) AS oldest FROM events").first()?.decode(column: "oldest", as: Int?.self)
    }

    /// The ids among which events written before `cutoff` may be removed: up to the newest such
    /// event and no further than the slowest durable consumer's cursor (nil: nothing to remove). A
    /// consumer that no longer runs but left a cursor holds compaction back.
    public static func compactionRange(before cutoff: Date, on database: any Database) async throws -> Range<Int>? {
        guard let sql = database as? any SQLDatabase else { throw EventLogError.notSQL }
        guard let oldest = try await oldest(on: database),
              let newestOld = try await sql.raw("SELECT MAX(id) AS newest FROM events WHERE created_at < \(bind: cutoff)").first()?
                .decode(column: "newest", as: Int?.self)
        else { return nil }
        var upper = newestOld + 1
        if let slowest = try await sql.raw("SELECT MIN(position) AS slowest FROM consumer_cursors").first()?.decode(column: "slowest", as: Int?.self) {
            upper = min(upper, slowest + 1)
        }
        return oldest < upper ? oldest..<upper : nil
    }

    /// Removes the events among `ids` written before `cutoff`.
    public static func removeOld(_ ids: Range<Int>, before cutoff: Date, on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw EventLogError.notSQL }
        try await sql.raw("DELETE FROM events WHERE id >= \(bind: ids.lowerBound) AND id < \(bind: ids.upperBound) AND created_at < \(bind: cutoff)").run()
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
    case badUUID(String)

    var description: String {
        switch self {
        case .notSQL: "the event log needs an SQL database"
        case .badUUID(let text): "an event's enterprise id is not a UUID: \(text.prefix(40))"
        }
    }
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
