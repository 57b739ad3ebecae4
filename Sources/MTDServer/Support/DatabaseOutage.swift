import MTDServices
import Vapor
import FluentPostgresDriver
import NIOCore
import NIOPosix

/// Errors that mean "the database cannot be reached right now", as opposed to a bad query: the
/// client should retry (503 with Retry-After), and the server keeps running and reconnects by
/// itself. A PostgreSQL restart, failover or a full connection pool look like this.
enum DatabaseOutage {
    static let retryAfterSeconds = 2

    static func isOutage(_ error: any Error) -> Bool {
        switch error {
        case let psql as PSQLError:
            switch psql.code {
            case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown, .poolClosed:
                return true
            case .server:
                // Class 08: connection exception; 57P01-57P03: admin/crash shutdown, cannot connect
                // now; 53300: too many connections.
                let state = psql.serverInfo?[.sqlState] ?? ""
                return state.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(state)
            default:
                return false
            }
        case is ConnectionPoolTimeoutError, is ConnectionPoolError, is NIOConnectionError, is ChannelError, is DeadlineMissed:
            return true
        case let io as IOError:
            return [ECONNREFUSED, ECONNRESET, EPIPE, ETIMEDOUT, ENETUNREACH, EHOSTUNREACH].contains(io.errnoCode)
        default:
            return false
        }
    }
}
