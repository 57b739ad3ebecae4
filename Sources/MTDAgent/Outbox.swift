import Foundation
import MTDCore

/// Something the device observed between check-ins: an app's network activity or a flagged visit.
public enum AgentEvent: Codable, Sendable, Equatable {
    case activity(NetworkActivity)
    case content(ContentVisit)
}

public struct OutboxEntry: Codable, Sendable, Equatable {
    public var sequence: Int
    public var event: AgentEvent
}

/// Events wait here until a check-in that carries them is accepted. Bounded: when full, the oldest
/// events go first and are counted, so the loss is reported rather than silent.
public protocol Outbox: Sendable {
    /// Adds events; returns how many old ones were evicted to make room.
    func append(_ events: [AgentEvent]) async throws -> Int
    func pending(limit: Int) async throws -> [OutboxEntry]
    /// Forgets every event up to and including `sequence` (the server accepted them).
    func acknowledge(through sequence: Int) async throws
    func count() async -> Int
    /// Events evicted since the outbox was created.
    func evicted() async -> Int
}

/// Shared by both outboxes: the queue and its bound.
struct OutboxQueue: Codable, Sendable {
    var entries: [OutboxEntry] = []
    var nextSequence = 1
    var evicted = 0

    mutating func append(_ events: [AgentEvent], capacity: Int) -> (added: [OutboxEntry], evicted: Int) {
        let added = events.map { event -> OutboxEntry in
            defer { nextSequence += 1 }
            return OutboxEntry(sequence: nextSequence, event: event)
        }
        entries += added
        let overflow = max(0, entries.count - capacity)
        if overflow > 0 {
            entries.removeFirst(overflow)
            evicted += overflow
        }
        return (added, overflow)
    }

    mutating func acknowledge(through sequence: Int) {
        entries.removeAll { $0.sequence <= sequence }
    }
}

public actor MemoryOutbox: Outbox {
    private var queue = OutboxQueue()
    public let capacity: Int

    public init(capacity: Int = 5_000) {
        self.capacity = capacity
    }

    public func append(_ events: [AgentEvent]) -> Int { queue.append(events, capacity: capacity).evicted }
    public func pending(limit: Int) -> [OutboxEntry] { Array(queue.entries.prefix(limit)) }
    public func acknowledge(through sequence: Int) { queue.acknowledge(through: sequence) }
    public func count() -> Int { queue.entries.count }
    public func evicted() -> Int { queue.evicted }
}

/// Survives restarts: appends go to a journal (one JSON line per event, cheap while the device is
/// busy); acknowledgements and evictions rewrite a snapshot atomically and truncate the journal.
public actor FileOutbox: Outbox {
    public let directory: URL
    public let capacity: Int
    private var queue: OutboxQueue
    private var snapshotURL: URL { directory.appendingPathComponent("outbox.json") }
    private var journalURL: URL { directory.appendingPathComponent("outbox.journal") }

    public init(directory: URL, capacity: Int = 5_000) throws {
        self.directory = directory
        self.capacity = capacity
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var queue = OutboxQueue()
        let snapshot = directory.appendingPathComponent("outbox.json")
        if let data = try? Data(contentsOf: snapshot), let stored = try? JSONDecoder().decode(OutboxQueue.self, from: data) {
            queue = stored
        }
        // Journal lines after the snapshot: a torn last line (power loss mid-write) is skipped.
        if let journal = try? String(contentsOf: directory.appendingPathComponent("outbox.journal"), encoding: .utf8) {
            for line in journal.split(separator: "\n") {
                guard let entry = try? JSONDecoder().decode(OutboxEntry.self, from: Data(line.utf8)), entry.sequence >= queue.nextSequence else { continue }
                queue.entries.append(entry)
                queue.nextSequence = entry.sequence + 1
            }
            let overflow = max(0, queue.entries.count - capacity)
            if overflow > 0 {
                queue.entries.removeFirst(overflow)
                queue.evicted += overflow
            }
        }
        self.queue = queue
    }

    public func append(_ events: [AgentEvent]) throws -> Int {
        let (added, evicted) = queue.append(events, capacity: capacity)
        if evicted > 0 {
            try writeSnapshot()
        } else {
            var text = Data()
            let encoder = JSONEncoder()
            for entry in added {
                text += try encoder.encode(entry)
                text += Data("\n".utf8)
            }
            try appendToJournal(text)
        }
        return evicted
    }

    public func pending(limit: Int) -> [OutboxEntry] { Array(queue.entries.prefix(limit)) }

    public func acknowledge(through sequence: Int) throws {
        queue.acknowledge(through: sequence)
        try writeSnapshot()
    }

    public func count() -> Int { queue.entries.count }
    public func evicted() -> Int { queue.evicted }

    private func appendToJournal(_ data: Data) throws {
        if !FileManager.default.fileExists(atPath: journalURL.path) {
            guard FileManager.default.createFile(atPath: journalURL.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw AgentError.storage("\(journalURL.path): cannot be created")
            }
        }
        let handle = try FileHandle(forWritingTo: journalURL)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: data)
    }

    private func writeSnapshot() throws {
        try JSONEncoder().encode(queue).write(to: snapshotURL, options: .atomic)
        try Data().write(to: journalURL, options: .atomic)
    }
}
