import FluentKit
import Foundation
import MTDAutomations
import MTDServices
import MTDStore

/// Automations on the event log, in one replica (under the lease, so an action is never sent by
/// two replicas): each batch of THREAT and DEVICE events records what triggered; the tick performs
/// what is due, woken as soon as a batch recorded something and at the latest every second (delays,
/// retries, digests). The two run side by side, so the next batch is read while actions go out.
struct AutomationConsumer: EventConsumer {
    let automations: Automations

    var name: String { Automations.consumerName }
    var eventTypes: [EventType]? { Automations.eventTypes }
    /// Rules act on what happens from now on, not on a server's history.
    var startsAtHead: Bool { true }
    var batchSize: Int { 1_000 }
    var tickSeconds: Double? { 1 }

    func process(_ events: [EventModel], on database: any Database) async throws {
        try await automations.process(events, on: database)
    }

    var tickSignal: EventSignal? { automations.recorded }

    func tick(on database: any Database, now: Date) async throws {
        try await automations.scheduleDigestsIfDue(on: database, now: now)
        try await automations.runDue(on: database, now: { Date() })
    }
}
