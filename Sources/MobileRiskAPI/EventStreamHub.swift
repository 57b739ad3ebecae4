import FluentKit
import Foundation
import Logging
import MTDServices
import MTDStore
import NIOCore

/// This replica's fan-out of the event log to its stream clients: an event-log consumer that runs in
/// every replica (no lease; the server registers it with its consumer runner, so its lag shows in
/// /metrics and on the console) hands it each new event, rendered once; it keeps the newest in
/// memory. Clients read from that window; a client further behind (a resume or a `start_time` in
/// the past) replays from the database until it catches up. Any replica may serve a reconnect.
public actor EventStreamHub {
    public struct Settings: Sendable, Codable, Equatable {
        /// Events kept in memory for clients at or near the head.
        public var windowSize = 20_000
        /// Open streams allowed per application key, in this replica.
        public var streamsPerKey = 10
        public init() {}
    }

    let settings: Settings
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

    package init(settings: Settings) {
        self.settings = settings
    }

    /// New events of the log, in order: the consumer runner hands them over after each commit (in
    /// this replica, and through LISTEN/NOTIFY in the others) from its position, which starts at the
    /// log's head.
    public func append(_ events: [RenderedEvent]) {
        guard let first = events.first, !closing else { return }
        if !started {
            // Everything after the runner's starting point arrives here; before it, streams replay.
            floor = first.position - 1
            head = floor
            started = true
        }
        for event in events where event.position > head {
            window.append(event)
            head = event.position
        }
        while window.count > settings.windowSize, let dropped = window.popFirst() { floor = dropped.position }
        fresh.signal()
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
