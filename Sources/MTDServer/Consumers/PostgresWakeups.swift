import MTDServices
import FluentPostgresDriver
import Foundation
import Logging
import MTDStore
import NIOCore
import PostgresNIO
import MTDCore

/// Listens on PostgreSQL for commits that appended events (EventLog's NOTIFY), in this replica and
/// in the others, and wakes the consumers. It holds one connection of its own, outside the pool;
/// when that connection drops it reconnects with backoff and wakes everything once, for what it
/// may have missed meanwhile (the consumers' polling covers the gap as well).
enum PostgresWakeups {
    static func run(databaseURL: String, eventLoop: any EventLoop, signal: EventSignal, logger: Logger) async {
        let configuration: PostgresConnection.Configuration
        do {
            configuration = try SQLPostgresConfiguration(url: databaseURL).coreConfiguration
        } catch {
            logger.error("cannot listen for event notifications; consumers fall back to polling", metadata: ["error": "\(error)"])
            return
        }
        var backoff = 0.5
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(on: eventLoop, configuration: configuration, id: 0, logger: logger)
                backoff = 0.5
                signal.signal()
                do {
                    try await withTaskCancellationHandler {
                        try await connection.listen(on: EventLog.notificationChannel) { notifications in
                            for try await _ in notifications { signal.signal() }
                        }
                    } onCancel: {
                        let closing: EventLoopFuture<Void> = connection.close()
                        closing.whenComplete { _ in }
                    }
                } catch {
                    // A connection must be closed before it is released (PostgresNIO traps otherwise),
                    // also when the server dropped it: closing one that is already closing fails, harmlessly.
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { break }
                logger.warning("event notifications lost; reconnecting", metadata: ["retry_in_s": "\(backoff)", "error": "\(error)"])
                try? await Task.sleep(nanoseconds: SleepInterval.nanoseconds(backoff))
                backoff = min(backoff * 2, 10)
            }
        }
    }
}
