import MTDServices
import FluentKit
import Foundation
import Logging
import MTDStore
import NIOConcurrencyHelpers
import MTDCore

/// Runs event-log consumers: each reads from its durable cursor, processes a batch, and commits the
/// cursor after it; it wakes when events commit (EventSignal), at the latest every `pollSeconds`;
/// failures back off from half a second to half a minute. A consumer placed in one replica runs only
/// while this process holds its database lease; a heartbeat renews the lease every `renewSeconds`,
/// and a lease whose holder died expires after `leaseSeconds`, when another replica takes it.
final class ConsumerRunner: Sendable {
    struct Timing: Sendable {
        /// A dead holder's lease is taken over between `leaseSeconds - renewSeconds` and
        /// `leaseSeconds + renewSeconds` after its last renewal: under 10 s with these.
        var leaseSeconds: Double = 5
        var renewSeconds: Double = 1
        var pollSeconds: Double = 1
        var maximumBackoffSeconds: Double = 30
        /// How often a consumer that only skipped events of other types saves its position: a
        /// write per commit would double the writes of a busy server, and skipping again after a
        /// takeover costs nothing.
        var cursorSaveSeconds: Double = 5
    }

    /// What one consumer is doing, for /metrics, the admin API and the console.
    struct Status: Sendable {
        var name: String
        var placement: ConsumerPlacement
        var running: Bool
        /// Whether this replica holds the lease (always true for every-replica consumers).
        var holdsLease: Bool
        /// The replica holding the lease, as the database says (nil when nobody does).
        var leaseHolder: String?
        var leaseExpiresAt: Date?
        var position: Int
        var head: Int
        /// Log positions between the cursor and the head.
        var lagEvents: Int
        /// Age of the oldest event of the consumer's types it has not processed (0 when none).
        var lagSeconds: Double
        var lastSuccessAt: Date?
        var lastError: String?
        var lastErrorAt: Date?
        var errors: Int
        var processedEvents: Int
    }

    private struct State: Sendable {
        var paused = false
        var holdsLease = false
        var leaseValidUntil = Date.distantPast
        /// Where the consumer is; for a durable one, saved to its cursor after every batch it
        /// processed, and at most every `cursorSaveSeconds` while it only skips other events.
        var position: Int?
        var savedPosition: Int?
        var savedAt = Date.distantPast
        var lastSuccessAt: Date?
        var lastError: String?
        var lastErrorAt: Date?
        var errors = 0
        var processedEvents = 0
    }

    /// This process, as lease rows name it: host, process id and a random part (a restarted
    /// process with the same pid is another holder).
    let holder: String
    let signal: EventSignal
    let timing: Timing
    /// Lease and cursor writes take their turn like every other write (SQLite has one writer).
    private let writes: WriteGate
    private let logger: Logger
    private let consumers = NIOLockedValueBox<[any EventConsumer]>([])
    private let states = NIOLockedValueBox<[String: State]>([:])
    private let halted = NIOLockedValueBox(false)

    init(signal: EventSignal, writes: WriteGate, timing: Timing = Timing(), logger: Logger = Logger(label: "openmtd.consumers")) {
        self.writes = writes
        holder = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8).lowercased())"
        self.signal = signal
        self.timing = timing
        self.logger = logger
    }

    /// Starts every consumer (and, for one-replica ones, its lease heartbeat) as background tasks.
    func start(_ list: [any EventConsumer], database: @escaping @Sendable () -> any Database, tasks: BackgroundTasks) {
        consumers.withLockedValue { $0 += list }
        for consumer in list {
            states.withLockedValue { $0[consumer.name] = State(holdsLease: consumer.placement == .everyReplica) }
            if consumer.placement == .oneReplica {
                tasks.start { [self] in await heartbeat(consumer.name, database: database) }
            }
            // Periodic work runs beside event processing, so a slow tick (a UEM device sync over a
            // large fleet) never holds back the reconciliation of a threat that just committed.
            if consumer.tickSeconds != nil {
                tasks.start { [self] in await tickLoop(consumer, database: database) }
            }
            if consumer.eventTypes != [] {
                tasks.start { [self] in await loop(consumer, database: database) }
            }
        }
    }

    /// Gives up held leases so another replica takes over at once (clean shutdown).
    func releaseLeases(database: any Database) async {
        let held = states.withLockedValue { states in
            defer { for name in states.keys { states[name]?.holdsLease = false } }
            return states.filter { $0.value.holdsLease }.map(\.key)
        }
        for name in held {
            do {
                try await writes.run(priority: .urgent) { try await ConsumerLeases.release(name, holder: self.holder, on: database) }
            } catch {
                logger.warning("could not release a consumer lease; another replica takes it when it expires", metadata: ["consumer": "\(name)", "error": "\(error)"])
            }
        }
    }

    func holdsLease(_ name: String) -> Bool {
        states.withLockedValue { $0[name]?.holdsLease ?? false }
    }

    /// Stops a consumer from starting passes (maintenance, or a test that drives the work itself);
    /// its lease is still renewed. A pass already running finishes.
    func pause(_ name: String) {
        states.withLockedValue { $0[name]?.paused = true }
    }

    func resume(_ name: String) {
        states.withLockedValue { $0[name]?.paused = false }
        signal.signal()
    }

    /// Stops every consumer and lease renewal without giving the leases up, as a crash would: the
    /// leases expire and other replicas take them over (failover tests).
    func halt() {
        halted.withLockedValue { $0 = true }
        states.withLockedValue { states in for name in states.keys { states[name]?.holdsLease = false } }
    }

    private func mayRun(_ name: String) -> Bool {
        states.withLockedValue { state in state[name].map { $0.holdsLease && !$0.paused } ?? false }
    }

    // MARK: Lease

    private func heartbeat(_ name: String, database: @escaping @Sendable () -> any Database) async {
        while !Task.isCancelled {
            let now = Date()
            if halted.withLockedValue({ $0 }) { return }
            do {
                let db = database()
                let held = try await writes.run(priority: .urgent) {
                    try await ConsumerLeases.acquire(name, holder: self.holder, seconds: self.timing.leaseSeconds, now: now, on: db)
                }
                let gained = states.withLockedValue { states in
                    // A halt while the renewal was in flight wins: a halted runner never holds a lease again.
                    guard !halted.withLockedValue({ $0 }) else { return false }
                    let before = states[name]?.holdsLease ?? false
                    states[name]?.holdsLease = held
                    if held { states[name]?.leaseValidUntil = now.addingTimeInterval(timing.leaseSeconds) }
                    // Whoever held it meanwhile moved the cursor: read it again when holding.
                    if held != before { states[name]?.position = nil }
                    return held && !before
                }
                if gained {
                    logger.notice("took the consumer lease", metadata: ["consumer": "\(name)", "holder": "\(holder)"])
                    signal.signal()
                }
            } catch {
                // The database did not answer: the lease stays ours only as long as it was granted.
                states.withLockedValue { states in
                    if let until = states[name]?.leaseValidUntil, Date() >= until.addingTimeInterval(-timing.renewSeconds) {
                        states[name]?.holdsLease = false
                    }
                }
                logger.warning("could not renew a consumer lease", metadata: ["consumer": "\(name)", "error": "\(error)"])
            }
            try? await Task.sleep(nanoseconds: SleepInterval.nanoseconds(timing.renewSeconds))
        }
    }

    // MARK: Loop

    private func tickLoop(_ consumer: any EventConsumer, database: @escaping @Sendable () -> any Database) async {
        guard let every = consumer.tickSeconds else { return }
        var backoff = 0.5
        let wake = consumer.tickSignal
        var seen = wake?.generation ?? 0
        while !Task.isCancelled {
            guard mayRun(consumer.name) else {
                try? await Task.sleep(nanoseconds: SleepInterval.nanoseconds(timing.renewSeconds))
                continue
            }
            // The first tick comes one period after the lease is held, as every later one, unless
            // the consumer's signal (read before the last tick, so none is missed) says work waits.
            if let wake {
                await wake.wait(after: seen, timeout: every)
            } else {
                try? await Task.sleep(nanoseconds: SleepInterval.nanoseconds(every))
            }
            guard !Task.isCancelled, mayRun(consumer.name) else { continue }
            seen = wake?.generation ?? 0
            do {
                try await consumer.tick(on: database(), now: Date())
                if consumer.eventTypes == [] { states.withLockedValue { $0[consumer.name]?.lastSuccessAt = Date() } }
                backoff = 0.5
            } catch {
                record(error, of: consumer.name, retryIn: backoff)
                try? await Task.sleep(nanoseconds: SleepInterval.nanoseconds(backoff))
                backoff = min(backoff * 2, timing.maximumBackoffSeconds)
            }
        }
    }

    private func record(_ error: any Error, of name: String, retryIn backoff: Double) {
        states.withLockedValue { states in
            states[name]?.errors += 1
            states[name]?.lastError = "\(error)"
            states[name]?.lastErrorAt = Date()
        }
        logger.error("consumer failed; retrying", metadata: ["consumer": "\(name)", "retry_in_s": "\(backoff)", "error": "\(error)"])
    }

    private func loop(_ consumer: any EventConsumer, database: @escaping @Sendable () -> any Database) async {
        var backoff = 0.5
        while !Task.isCancelled {
            let seen = signal.generation
            guard mayRun(consumer.name) else {
                await signal.wait(after: seen, timeout: timing.renewSeconds)
                continue
            }
            var more = false
            do {
                more = try await pass(consumer, database: database())
                states.withLockedValue { $0[consumer.name]?.lastSuccessAt = Date() }
                backoff = 0.5
            } catch {
                record(error, of: consumer.name, retryIn: backoff)
                try? await Task.sleep(nanoseconds: SleepInterval.nanoseconds(backoff))
                backoff = min(backoff * 2, timing.maximumBackoffSeconds)
                continue
            }
            if more { continue }
            let signalled = await signal.wait(after: seen, timeout: timing.pollSeconds)
            // A burst (a thousand devices at once) is better served by one batch than by many.
            if signalled, consumer.coalesceSeconds > 0 {
                try? await Task.sleep(nanoseconds: SleepInterval.nanoseconds(consumer.coalesceSeconds))
            }
        }
    }

    /// One batch. Returns whether more events wait.
    private func pass(_ consumer: any EventConsumer, database: any Database) async throws -> Bool {
        guard await consumer.isReady() else { return false }
        let durable = consumer.placement == .oneReplica
        let head = try await EventLog.head(on: database)
        let state = states.withLockedValue { $0[consumer.name] } ?? State()
        var position = state.position
        if position == nil {
            // A consumer in every replica serves what happens from now on; a durable one resumes
            // from its cursor (every time it gains the lease, since the last holder moved it).
            if durable {
                position = try await ConsumerCursors.saved(consumer.name, on: database)
                if position == nil, consumer.startsAtHead {
                    try await writes.run(priority: .urgent) { try await ConsumerCursors.save(consumer.name, position: head, on: database) }
                    position = head
                }
                let saved = position ?? 0
                states.withLockedValue { $0[consumer.name]?.savedPosition = saved }
            } else {
                position = head
            }
        }
        let from = position ?? 0
        guard head > from else {
            states.withLockedValue { $0[consumer.name]?.position = from }
            return false
        }
        // Ids commit in order (EventLog.append), so nothing at or below the head read first can still appear.
        let events = try await EventLog.read(after: from, upTo: head, enterpriseID: nil, types: consumer.eventTypes, limit: consumer.batchSize, on: database)
        if !events.isEmpty { try await consumer.process(events, on: database) }
        let full = events.count >= consumer.batchSize
        let next = full ? (events.last?.id ?? head) : head
        if durable {
            // A replica that lost its lease meanwhile leaves the cursor to the new holder.
            guard holdsLease(consumer.name) else { return false }
            let now = Date()
            let due = now.timeIntervalSince(state.savedAt) >= timing.cursorSaveSeconds
            if !events.isEmpty || (due && state.savedPosition != next) {
                try await writes.run(priority: .urgent) { try await ConsumerCursors.save(consumer.name, position: next, on: database) }
                states.withLockedValue { states in
                    states[consumer.name]?.savedPosition = next
                    states[consumer.name]?.savedAt = now
                }
            }
        }
        states.withLockedValue { states in
            states[consumer.name]?.position = next
            states[consumer.name]?.processedEvents += events.count
        }
        return full
    }

    // MARK: Status

    func status(on database: any Database, now: Date = Date()) async throws -> [Status] {
        let list = consumers.withLockedValue { $0 }
        let head = try await EventLog.head(on: database)
        let leases = Dictionary(try await ConsumerLeases.all(on: database).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var result: [Status] = []
        for consumer in list {
            let state = states.withLockedValue { $0[consumer.name] } ?? State()
            let durable = consumer.placement == .oneReplica
            // The holder knows its position best; other replicas read the saved cursor.
            var position = state.holdsLease ? (state.position ?? head) : try await ConsumerCursors.position(of: consumer.name, on: database)
            if consumer.eventTypes == [] { position = head }
            let oldest = try await EventLog.oldestUnread(after: position, types: consumer.eventTypes, on: database)
            let lease = leases[consumer.name].flatMap { $0.expiresAt > now ? $0 : nil }
            result.append(Status(
                name: consumer.name, placement: consumer.placement, running: true, holdsLease: state.holdsLease,
                leaseHolder: durable ? lease?.holder : holder, leaseExpiresAt: lease?.expiresAt, position: position, head: head,
                lagEvents: max(head - position, 0), lagSeconds: oldest.map { max(now.timeIntervalSince($0), 0) } ?? 0,
                lastSuccessAt: state.lastSuccessAt, lastError: state.lastError, lastErrorAt: state.lastErrorAt,
                errors: state.errors, processedEvents: state.processedEvents))
        }
        return result
    }
}
