import FluentKit
import Foundation
import Logging
import MTDServices
import MTDStore
import NIOCore

/// This replica's fan-out of the event log to its stream clients: one reader follows the log after
/// every commit (woken in this process and, through LISTEN/NOTIFY, by the others), renders each
/// event once and keeps the newest ones in memory. Clients read from that window; a client further
/// behind (a resume or a `start_time` in the past) replays from the database until it catches up.
/// Runs in every replica (no lease): each serves its own clients, and any may serve a reconnect.
public actor EventStreamHub {
    public struct Settings: Sendable, Codable, Equatable {
        /// Events kept in memory for clients at or near the head.
        public var windowSize = 20_000
        /// Open streams allowed per application key, in this replica.
        public var streamsPerKey = 10
        public init() {}
    }

    let settings: Settings
    private let commits: EventSignal
    /// Woken when the window grows and when the hub closes.
    nonisolated let fresh = EventSignal()
    private var window = CircularBuffer<RenderedEvent>()
    /// Every event after this position up to `head` is in the window.
    private var floor = 0
    private(set) var head = 0
    private var started = false
    private(set) var closing = false
    private var streams: [UUID: Int] = [:]
    private let logger = Logger(label: "openmtd.mobile-risk.stream")

    package init(settings: Settings, commits: EventSignal) {
        self.settings = settings
        self.commits = commits
    }

    /// Follows the log until cancelled or closed.
    public func run(database: @escaping @Sendable () -> any Database) async {
        while !Task.isCancelled, !closing {
            let seen = commits.generation
            do {
                try await catchUp(database())
            } catch {
                logger.warning("could not read the event log; retrying", metadata: ["error": "\(error)"])
            }
            // Polling as well: a commit in another replica is noticed even if its notification is lost.
            await commits.wait(after: seen, timeout: 1)
        }
    }

    private func catchUp(_ database: any Database) async throws {
        if !started {
            head = try await EventLog.head(on: database)
            floor = head
            started = true
        }
        while true {
            let events = try await EventLog.rows(after: head, enterpriseID: nil, limit: 1_000, on: database)
            guard let last = events.last?.id else { return }
            for event in events { window.append(RenderedEvent(event)) }
            head = last
            while window.count > settings.windowSize, let dropped = window.popFirst() { floor = dropped.position }
            fresh.signal()
            if events.count < 1_000 { return }
        }
    }

    /// The newest position this replica has seen (0 before the first read).
    public var headPosition: Int { head }

    enum Read {
        /// Matching events after the cursor, and how far the window was scanned.
        case events([RenderedEvent], scannedTo: Int)
        /// The cursor is older than the window: read from the database.
        case replay
    }

    func read(after cursor: Int, enterpriseID: UUID, types: Set<String>?, limit: Int) -> Read {
        guard started, cursor >= floor else { return .replay }
        // First event after the cursor: positions increase along the window.
        var low = window.startIndex, high = window.endIndex
        while low < high {
            let middle = window.index(low, offsetBy: window.distance(from: low, to: high) / 2)
            if window[middle].position <= cursor { low = window.index(after: middle) } else { high = middle }
        }
        var found: [RenderedEvent] = []
        var scanned = max(cursor, 0)
        var index = low
        while index < window.endIndex, found.count < limit {
            let event = window[index]
            scanned = event.position
            if event.enterpriseID == enterpriseID, types?.contains(event.type) ?? true { found.append(event) }
            index = window.index(after: index)
        }
        if index == window.endIndex { scanned = max(scanned, head) }
        return .events(found, scannedTo: scanned)
    }

    /// Counts an open stream of `key`; false when it already has its allowance open.
    func open(key: UUID) -> Bool {
        let count = streams[key, default: 0]
        guard count < settings.streamsPerKey else { return false }
        streams[key] = count + 1
        return true
    }

    func closed(key: UUID) {
        let count = streams[key, default: 1] - 1
        streams[key] = count > 0 ? count : nil
    }

    /// Streams open in this replica.
    public var openStreamCount: Int { streams.values.reduce(0, +) }

    /// Shutdown or handover: every stream sends `reconnect` and ends.
    public func close() {
        closing = true
        fresh.signal()
    }
}
