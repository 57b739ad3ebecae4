import FluentKit
import Foundation
import Logging
import MTDStore
import NIOConcurrencyHelpers

/// Runs event-log consumers: each reads from its durable cursor, processes a batch, and commits the
/// cursor after it; it wakes when events commit (EventSignal), at the latest every `pollSeconds`;
/// failures back off from half a second to half a minute. A consumer placed in one replica runs only
/// while this process holds its database lease; a heartbeat renews the lease every `renewSeconds`,
/// and a lease whose holder died expires after `leaseSeconds`, when another replica takes it.
final class ConsumerRunner: Sendable {
    struct Timing: Sendable {
        var leaseSeconds: Double = 6
        var renewSeconds: Double = 2
        var pollSeconds: Double = 1
        var maximumBackoffSeconds: Double = 30
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
        var holdsLease = false
        var leaseValidUntil = Date.distantPast
        var position: Int?
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
    private let logger: Logger
    private let consumers = NIOLockedValueBox<[any EventConsumer]>([])
    private let states = NIOLockedValueBox<[String: State]>([:])

    init(signal: EventSignal, timing: Timing = Timing(), logger: Logger = Logger(label: "openmtd.consumers")) {
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
            tasks.start { [self] in await loop(consumer, database: database) }
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
                try await ConsumerLeases.release(name, holder: holder, on: database)
            } catch {
                logger.warning("could not release a consumer lease; another replica takes it when it expires", metadata: ["consumer": "\(name)", "error": "\(error)"])
            }
        }
    }

    func holdsLease(_ name: String) -> Bool {
        states.withLockedValue { $0[name]?.holdsLease ?? false }
    }

    // MARK: Lease

    private func heartbeat(_ name: String, database: @escaping @Sendable () -> any Database) async {
        while !Task.isCancelled {
            let now = Date()
            do {
                let held = try await ConsumerLeases.acquire(name, holder: holder, seconds: timing.leaseSeconds, now: now, on: database())
                let gained = states.withLockedValue { states in
                    let before = states[name]?.holdsLease ?? false
                    states[name]?.holdsLease = held
                    if held { states[name]?.leaseValidUntil = now.addingTimeInterval(timing.leaseSeconds) }
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
            try? await Task.sleep(nanoseconds: UInt64(timing.renewSeconds * 1e9))
        }
    }

    // MARK: Loop

    private func loop(_ consumer: any EventConsumer, database: @escaping @Sendable () -> any Database) async {
        var backoff = 0.5
        var nextTick = Date()
        while !Task.isCancelled {
            let seen = signal.generation
            guard holdsLease(consumer.name) else {
                await signal.wait(after: seen, timeout: timing.renewSeconds)
                continue
            }
            var more = false
            do {
                more = try await pass(consumer, database: database(), nextTick: &nextTick)
                states.withLockedValue { $0[consumer.name]?.lastSuccessAt = Date() }
                backoff = 0.5
            } catch {
                states.withLockedValue { states in
                    states[consumer.name]?.errors += 1
                    states[consumer.name]?.lastError = "\(error)"
                    states[consumer.name]?.lastErrorAt = Date()
                }
                logger.error("consumer failed; retrying", metadata: ["consumer": "\(consumer.name)", "retry_in_s": "\(backoff)", "error": "\(error)"])
                try? await Task.sleep(nanoseconds: UInt64(backoff * 1e9))
                backoff = min(backoff * 2, timing.maximumBackoffSeconds)
                continue
            }
            if more { continue }
            var timeout = timing.pollSeconds
            if consumer.tickSeconds != nil { timeout = min(timeout, max(nextTick.timeIntervalSinceNow, 0.01)) }
            let signalled = await signal.wait(after: seen, timeout: timeout)
            // A burst (a thousand devices at once) is better served by one batch than by many.
            if signalled, consumer.coalesceSeconds > 0 {
                try? await Task.sleep(nanoseconds: UInt64(consumer.coalesceSeconds * 1e9))
            }
        }
    }

    /// One pass: the periodic work when due, then one batch. Returns whether more events wait.
    private func pass(_ consumer: any EventConsumer, database: any Database, nextTick: inout Date) async throws -> Bool {
        if let every = consumer.tickSeconds, Date() >= nextTick {
            try await consumer.tick(on: database, now: Date())
            nextTick = Date().addingTimeInterval(every)
        }
        guard await consumer.isReady() else { return false }
        let durable = consumer.placement == .oneReplica
        let head = try await EventLog.head(on: database)
        var position = states.withLockedValue { $0[consumer.name]?.position }
        if position == nil {
            // A consumer in every replica serves what happens from now on; a durable one resumes.
            position = durable ? try await ConsumerCursors.position(of: consumer.name, on: database) : head
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
            try await ConsumerCursors.save(consumer.name, position: next, on: database)
        }
        states.withLockedValue { states in
            states[consumer.name]?.position = durable ? nil : next
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
            let position = durable ? try await ConsumerCursors.position(of: consumer.name, on: database) : (state.position ?? head)
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
