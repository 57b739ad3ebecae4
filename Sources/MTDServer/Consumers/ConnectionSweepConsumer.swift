import FluentKit
import Foundation
import Logging
import MTDStore

/// Moves devices between CONNECTED, UNREACHABLE and DISCONNECTED by check-in age, in one replica.
/// It reads no events; it only ticks.
struct ConnectionSweepConsumer: EventConsumer {
    let sweeper: ConnectionSweeper
    let every: Double
    let logger: Logger

    var name: String { "connection-sweeper" }
    var eventTypes: [EventType]? { [] }
    var tickSeconds: Double? { every }

    func tick(on database: any Database, now: Date) async throws {
        let changed = try await sweeper.sweep(on: database, now: now)
        if changed > 0 { logger.info("connection sweep", metadata: ["changed": "\(changed)"]) }
    }
}
