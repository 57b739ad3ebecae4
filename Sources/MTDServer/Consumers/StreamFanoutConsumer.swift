import FluentKit
import Foundation
import MobileRiskAPI
import MTDStore

/// The Mobile Risk API's event stream fan-out as an event-log consumer: in every replica, from the
/// log's head, each batch rendered once into the replica's window (see EventStreamHub).
struct StreamFanoutConsumer: EventConsumer {
    let hub: EventStreamHub

    var name: String { "mra-stream-fanout" }
    var placement: ConsumerPlacement { .everyReplica }
    var startsAtHead: Bool { true }
    var batchSize: Int { 1_000 }
    /// Commits come by the hundred a second under load; one read per 10 ms serves them all and
    /// keeps delivery well inside its 100 ms.
    var coalesceSeconds: Double { 0.01 }

    func process(_ events: [EventModel], on database: any Database) async throws {
        await hub.append(events.map(RenderedEvent.init))
    }
}
