import Fluent
import FluentKit
import Foundation
import Logging
import MTDServices
import MTDStore
import NIOCore
import Vapor

/// `GET /mra/stream/v2/events`: Server-Sent Events in Lookout's framing. Each batch is
/// `id:<id of its last event>`, `event:events`, `data:{"events":[…]}`; an idle stream gets
/// `event:heartbeat` with `data:{}` every 5 s, carrying the id of the last event delivered; at
/// shutdown every stream gets `event:reconnect` with `retry:` and ends. Delivery is in log order and
/// exactly once per stream; a client resumes with the last id it saw (`id=` or `last_id=`).
struct EventStreamController: Sendable {
    let api: MobileRiskAPI
    /// Events per frame: large enough for a replay to move, small enough that a frame is a bounded write.
    static let batchLimit = 1_000
    static let logger = Logger(label: "openmtd.mobile-risk.stream")

    @Sendable func stream(_ req: Request) async throws -> Response {
        let principal = try req.mraPrincipal
        try principal.require(.events)
        let now = api.clock()
        let query = try req.query.decode([String: String].self)
        let parameters = try StreamParameters(query: query, lastEventID: req.headers.first(name: "Last-Event-ID"), now: now)
        let start = try await startPosition(parameters, principal: principal, on: req.db, now: now)
        guard await api.hub.open(key: principal.keyID) else {
            throw MRAError(status: .tooManyRequests, code: "too_many_streams",
                           message: "this application key already has \(api.hub.settings.streamsPerKey) streams open", retryAfter: 5)
        }
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "text", subType: "event-stream")
        headers.cacheControl = .init(noCache: true)
        headers.replaceOrAdd(name: "X-Accel-Buffering", value: "no")
        let api = self.api
        let database = req.db
        let body = Response.Body(asyncStream: { writer in
            defer { Task { await api.hub.closed(key: principal.keyID) } }
            let session = StreamSession(api: api, writer: writer, principal: principal, types: parameters.types, database: database)
            await session.run(from: start)
        })
        return Response(status: .ok, headers: headers, body: body)
    }

    /// Where the stream starts: after the resume id; else at `start_time`; else at the head (new
    /// events only). An id this server never handed out starts at the oldest retained event, and
    /// says so in an AUDIT event.
    func startPosition(_ parameters: StreamParameters, principal: MRAPrincipal, on database: any Database, now: Date) async throws -> Int {
        let head = try await EventLog.head(on: database)
        switch parameters.resume {
        case .position(let position) where position <= head:
            // Older than what the log keeps: the stream goes on from the oldest retained event, and says so.
            if let oldest = try await EventLog.oldest(on: database), position < oldest - 1 {
                try await note(principal, "resume point older than the retained events", on: database, now: now)
            }
            return position
        case .position, .unknown:
            try await note(principal, "unknown", on: database, now: now)
            return 0
        case .none:
            if let startTime = parameters.startTime {
                return try await EventLog.lastPosition(before: startTime, on: database)
            }
            return head
        }
    }
}

extension EventStreamController {
    /// An AUDIT event saying where a stream whose resume point could not be honoured started.
    func note(_ principal: MRAPrincipal, _ resume: String, on database: any Database, now: Date) async throws {
        try await api.writes.run {
            try await EventLog.append([EventLog.NewEvent(
                type: .audit, change: .updated, actor: EventParty(type: "APPLICATION_KEY", guid: principal.keyID.uuidString.lowercased()),
                target: EventParty(type: "ENTERPRISE", guid: principal.enterpriseID.uuidString.lowercased()),
                payload: AuditPayload(type: "EVENT_STREAM", changes: [.init(name: "resume_id", from: resume, to: "oldest retained event")]))],
                enterpriseID: principal.enterpriseID, on: database, now: now)
        }
    }
}

/// One open stream: reads after its cursor (from the hub's window, or the database when behind),
/// writes batches and heartbeats, ends with `reconnect` at shutdown.
struct StreamSession {
    let api: MobileRiskAPI
    let writer: any AsyncBodyStreamWriter
    let principal: MRAPrincipal
    let types: Set<String>?
    let database: any Database

    func run(from start: Int) async {
        var cursor = start
        var lastDelivered = start
        var lastWrite = Date()
        do {
            // At once, so the client sees the stream is up (and has an id to save) before any event.
            try await send(Self.heartbeat(lastDelivered))
            while !Task.isCancelled {
                let seen = api.hub.fresh.generation
                let (events, scanned) = try await next(after: cursor)
                cursor = scanned
                if let last = events.last {
                    lastDelivered = last.position
                    try await send(Self.batch(events))
                    lastWrite = Date()
                    continue
                }
                if await api.hub.closing {
                    try await send("event:reconnect\nretry:1000\ndata:{}\n\n")
                    break
                }
                let idle = Date().timeIntervalSince(lastWrite)
                if idle >= api.settings.heartbeatSeconds {
                    try await send(Self.heartbeat(lastDelivered))
                    lastWrite = Date()
                    continue
                }
                await api.hub.fresh.wait(after: seen, timeout: api.settings.heartbeatSeconds - idle)
            }
        } catch {
            // The client went away or stopped taking frames: fail the response so the connection
            // closes now, instead of holding what it has not read (it resumes from its last id).
            EventStreamController.logger.debug("stream ended", metadata: ["error": "\(error)"])
            try? await writer.write(.error(error))
            return
        }
        try? await writer.write(.end)
    }

    /// The next events for this client after `cursor`, and the position scanned up to.
    private func next(after cursor: Int) async throws -> ([RenderedEvent], Int) {
        let hub = api.hub
        switch await hub.read(after: cursor, enterpriseID: principal.enterpriseID, types: types, limit: EventStreamController.batchLimit) {
        case .events(let events, let scanned):
            return (events, scanned)
        case .replay:
            return try await EventReplay.read(
                after: cursor, enterpriseID: principal.enterpriseID, types: types, limit: EventStreamController.batchLimit, on: database)
        }
    }

    private func send(_ text: String) async throws {
        var bytes = ByteBufferAllocator().buffer(capacity: text.utf8.count)
        bytes.writeString(text)
        let buffer = bytes
        let writer = self.writer
        try await Deadline.run(seconds: api.settings.writeTimeoutSeconds) {
            try await writer.writeBuffer(buffer)
        }
    }

    static func heartbeat(_ position: Int) -> String {
        "id:" + EventStreamID.encode(position) + "\nevent:heartbeat\ndata:{}\n\n"
    }

    static func batch(_ events: [RenderedEvent]) -> String {
        var text = "id:" + EventStreamID.encode(events.last?.position ?? 0) + "\nevent:events\ndata:{\"events\":["
        for (index, event) in events.enumerated() {
            if index > 0 { text += "," }
            text += event.json
        }
        return text + "]}\n\n"
    }
}

/// Events read straight from the database: a client behind the hub's window, and polling.
///
/// The log is read in id order along its primary key and filtered here. Filtering by enterprise in
/// SQL made SQLite take the (enterprise, type, id) index and sort every event of the enterprise for
/// each batch: 100 ms a batch at a million events, a replay of 6,500 events/s.
enum EventReplay {
    static let scanLimit = 2_000

    static func read(after cursor: Int, enterpriseID: UUID, types: Set<String>?, limit: Int, on database: any Database) async throws -> ([RenderedEvent], Int) {
        let logTypes = types.map { names in EventType.allCases.filter { names.contains($0.rawValue) } }
        // The head first, and nothing past it: an event that commits meanwhile is read next time,
        // never skipped (ids commit in order).
        let head = try await EventLog.head(on: database)
        if let logTypes, logTypes.isEmpty {
            // Only types the log does not hold yet (SMISHING_ALERT): nothing to deliver, ever.
            return ([], max(cursor, head))
        }
        var found: [RenderedEvent] = []
        var scanned = cursor
        while found.count < limit, scanned < head {
            let rows = try await EventLog.rows(after: scanned, upTo: head, enterpriseID: nil, limit: scanLimit, on: database)
            guard !rows.isEmpty else {
                scanned = head
                break
            }
            for row in rows {
                scanned = row.id
                if row.enterpriseID == enterpriseID, types?.contains(row.type) ?? true {
                    found.append(RenderedEvent(row))
                    if found.count == limit { break }
                }
            }
            if rows.count < scanLimit, found.count < limit { scanned = head }
        }
        return (found, max(scanned, cursor))
    }
}
