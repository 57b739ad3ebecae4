import MTDServices
import FluentPostgresDriver
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import SQLKit
import Vapor

/// Keeps the PostgreSQL connection pools usable after the database restarted.
///
/// A query that PostgresNIO (1.33) writes to a connection the server has just closed is dropped
/// without being failed: its caller waits for ever and its pooled connection is never given back.
/// After a few such losses an event loop's pool (AsyncKit, four connections per loop) counts all of
/// its connections as in use and every request on that loop waits out the pool timeout, with
/// PostgreSQL up. This doctor checks each loop's pool (on a timer, and at once when a write missed
/// its deadline); when a pool cannot hand out a connection while a fresh connection to the same
/// database works, it replaces the pools (requests in flight on the old ones get 503 and retry).
final class PostgresPoolDoctor: Sendable {
    private let application: Application
    private let configuration: PostgresConnection.Configuration
    private let metrics: ServerMetrics
    private let wake = EventSignal()
    private let logger = Logger(label: "openmtd.database")
    /// Seconds between checkups when nothing asks for one.
    static let checkupSeconds = 5.0

    init(application: Application, databaseURL: String, metrics: ServerMetrics) throws {
        self.application = application
        configuration = try SQLPostgresConfiguration(url: databaseURL).coreConfiguration
        self.metrics = metrics
    }

    /// A write missed its deadline: check the pools now.
    func suspectStall() {
        wake.signal()
    }

    func run() async {
        while !Task.isCancelled {
            let seen = wake.generation
            await wake.wait(after: seen, timeout: Self.checkupSeconds)
            if Task.isCancelled { break }
            if await poolsWedged(), await databaseReachable() {
                await resetPools()
            }
        }
    }

    /// Whether some event loop's pool cannot run `SELECT 1` in time.
    private func poolsWedged() async -> Bool {
        for eventLoop in application.eventLoopGroup.makeIterator() {
            guard let database = application.databases.database(.psql, logger: logger, on: eventLoop) as? any SQLDatabase else { continue }
            do {
                try await Deadline.run(seconds: 6) { try await database.raw("SELECT 1").run() }
            } catch {
                if DatabaseOutage.isOutage(error) || error is DeadlineMissed { return true }
                logger.warning("database checkup failed", metadata: ["error": "\(error)"])
            }
        }
        return false
    }

    /// Whether a connection of our own, outside the pools, gets through: then the database is up and
    /// the pools are at fault, not an outage (in an outage, the pools recover by themselves).
    private func databaseReachable() async -> Bool {
        let eventLoop = application.eventLoopGroup.any()
        let configuration = configuration
        let logger = logger
        do {
            return try await Deadline.run(seconds: 5) {
                let connection = try await PostgresConnection.connect(on: eventLoop, configuration: configuration, id: 1, logger: logger)
                do {
                    _ = try await connection.query("SELECT 1", logger: logger)
                } catch {
                    try? await connection.close()
                    throw error
                }
                try await connection.close()
                return true
            }
        } catch {
            return false
        }
    }

    private func resetPools() async {
        logger.warning("a PostgreSQL connection pool stopped handing out connections while the database answers; replacing the pools")
        metrics.databasePoolResets.increment()
        let databases = application.databases
        do {
            // Closing a pool waits for its connections to close: off the event loops.
            try await NIOThreadPool.singleton.runIfActive { databases.reinitialize(.psql) }
        } catch {
            logger.error("could not replace the connection pools", metadata: ["error": "\(error)"])
        }
    }
}
