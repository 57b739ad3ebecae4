import Foundation
import Logging
import NIOCore
import NIOPosix
import FluentSQLiteDriver
import MTDCore

/// Copies the SQLite write-ahead log into the database file from a connection of its own, once a
/// second, instead of letting the writer do it.
///
/// By default the connection that commits past 1,000 WAL pages runs the checkpoint itself, and a
/// checkpoint syncs the database file to disk: under load that put a pause of several hundred
/// milliseconds into one check-in in a hundred (measured: p99 0.4–1.6 s against a p50 of 30–60 ms),
/// while that writer held the only write turn. A passive checkpoint here never blocks writers or
/// readers; the connections' own threshold is raised (DatabaseSetup) so it only acts if this one
/// falls far behind.
enum SQLiteCheckpoints {
    static let intervalSeconds: Double = 1
    /// WAL pages after which a committing connection checkpoints anyway (about 40 MB).
    static let backstopPages = 10_000

    static func run(path: String, threadPool: NIOThreadPool, eventLoop: any EventLoop, logger: Logger) async {
        // The future-based calls throughout: the async ones give up on a cancelled task, and a
        // connection left open when the task is cancelled at shutdown trips SQLiteNIO's assertion.
        let connection: SQLiteConnection
        do {
            let opening: EventLoopFuture<SQLiteConnection> = SQLiteConnection.open(
                storage: .file(path: path), threadPool: threadPool, logger: logger, on: eventLoop)
            connection = try await opening.get()
        } catch {
            logger.warning("cannot open SQLite for checkpoints; the writers will checkpoint themselves", metadata: ["error": "\(error)"])
            return
        }
        var failing = false
        while !Task.isCancelled {
            do {
                try await Task.sleep(nanoseconds: SleepInterval.nanoseconds(intervalSeconds))
            } catch {
                break
            }
            do {
                try await connection.query("PRAGMA wal_checkpoint(PASSIVE)", [], logger: logger) { _ in }.get()
                if failing { logger.notice("SQLite checkpoints work again") }
                failing = false
            } catch {
                // Logged once per failure streak; the connections' own threshold still bounds the log.
                if !failing { logger.warning("SQLite checkpoint failed; retrying every second", metadata: ["error": "\(error)"]) }
                failing = true
            }
        }
        do {
            let closing: EventLoopFuture<Void> = connection.close()
            try await closing.get()
        } catch {
            logger.debug("closing the checkpoint connection failed", metadata: ["error": "\(error)"])
        }
    }
}
