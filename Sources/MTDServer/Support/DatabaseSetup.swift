import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import SQLKit
import Vapor

/// The database of a server: PostgreSQL when a URL is given, else the embedded SQLite file.
enum DatabaseSetup {
    /// Returns whether the database is SQLite (which takes one writer at a time).
    static func use(databaseURL: String?, sqlitePath: String, dataDirectory: String, on app: Application) async throws -> Bool {
        if let url = databaseURL, !url.isEmpty {
            do {
                // A request waits at most 3 s for a connection: during a PostgreSQL restart or
                // failover clients get a quick 503 with Retry-After instead of hanging.
                app.databases.use(try .postgres(url: url, maxConnectionsPerEventLoop: 4, connectionPoolTimeout: .seconds(3)), as: .psql)
            } catch {
                throw ServerStartupError("database URL \(url) is not usable: \(error); expected postgres://user:password@host:5432/database")
            }
            return false
        }
        do {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw ServerStartupError("data folder \(dataDirectory) cannot be created: \(error.localizedDescription); choose another with --data-dir")
        }
        app.databases.use(.sqlite(.file(sqlitePath)), as: .sqlite)
        // WAL lets readers run while a check-in commits; with WAL, synchronous=NORMAL keeps every
        // committed transaction safe from application crashes and only risks the last commits on
        // a power loss, in exchange for not syncing the disk on every check-in. One connection per
        // event loop, so each gets the setting.
        for eventLoop in app.eventLoopGroup.makeIterator() {
            guard let sql = app.databases.database(.sqlite, logger: app.logger, on: eventLoop) as? any SQLDatabase else { continue }
            try await sql.raw("PRAGMA journal_mode=WAL").run()
            try await sql.raw("PRAGMA synchronous=NORMAL").run()
            // Checkpoints run beside the writers (SQLiteCheckpoints); this is only the backstop.
            try await sql.raw("PRAGMA wal_autocheckpoint=\(unsafeRaw: String(SQLiteCheckpoints.backstopPages))").run()
        }
        return true
    }
}
