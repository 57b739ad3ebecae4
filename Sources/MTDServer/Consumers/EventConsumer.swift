import FluentKit
import Foundation
import MTDServices
import MTDStore

/// Where a consumer runs when several replicas share one database.
enum ConsumerPlacement: String, Sendable {
    /// In one replica at a time, under a database lease (UEM sync, the sweeper, re-evaluation).
    case oneReplica = "one-replica"
    /// In every replica, each for its own clients (a stream's fan-out); its position lives in memory
    /// and starts at the log's head.
    case everyReplica = "every-replica"
}

/// Something that acts on the event log: it is handed batches of new events in order, and its
/// position is committed after each batch it processed. Delivery is at least once, so processing
/// must be idempotent. A consumer may also do periodic work (`tick`), under the same lease.
protocol EventConsumer: Sendable {
    /// The cursor's and the lease's name; also the `consumer` label in /metrics.
    var name: String { get }
    var placement: ConsumerPlacement { get }
    /// The event types it reads; nil for all, none for a consumer that only ticks.
    var eventTypes: [EventType]? { get }
    /// Whether a consumer without a saved cursor starts at the log's head rather than its beginning
    /// (one that acts on what happens from now on, added to a server with history).
    var startsAtHead: Bool { get }
    var batchSize: Int { get }
    /// How long to wait after a wake-up before reading, so that a burst is handled in one batch.
    var coalesceSeconds: Double { get }
    /// How often `tick` runs; nil for never.
    var tickSeconds: Double? { get }
    /// Wakes the tick before its period is over (work the consumer's own batches handed to it).
    var tickSignal: EventSignal? { get }

    /// Whether events can be processed now. While false they stay in the log and count as lag
    /// (UEM sync without a connected UEM).
    func isReady() async -> Bool
    func process(_ events: [EventModel], on database: any Database) async throws
    func tick(on database: any Database, now: Date) async throws
}

extension EventConsumer {
    var placement: ConsumerPlacement { .oneReplica }
    var eventTypes: [EventType]? { nil }
    var startsAtHead: Bool { false }
    var batchSize: Int { 5_000 }
    var coalesceSeconds: Double { 0 }
    var tickSeconds: Double? { nil }
    var tickSignal: EventSignal? { nil }
    func isReady() async -> Bool { true }
    func process(_ events: [EventModel], on database: any Database) async throws {}
    func tick(on database: any Database, now: Date) async throws {}
}
