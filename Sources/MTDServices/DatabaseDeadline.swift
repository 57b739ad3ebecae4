import Foundation
import NIOConcurrencyHelpers

/// A database operation that did not finish in time: most likely a query written to a PostgreSQL
/// connection that the server had just closed. PostgresNIO (1.33) drops such a query without ever
/// failing it, so whoever awaits it would wait forever, holding a pooled connection (see
/// docs/reliability.md). Answered like an outage: 503 with Retry-After.
package struct DatabaseStalled: Error, CustomStringConvertible {
    package var seconds: Double
    package init(seconds: Double) { self.seconds = seconds }
    package var description: String { "a database operation did not finish within \(seconds) s; the connection pool is being checked" }
}

/// Runs database work with a deadline, so that a query lost inside the driver cannot hang its caller
/// (and everything queued behind it) for ever. The lost work keeps its task, which never ends; what
/// it held is reclaimed by `PostgresPoolDoctor`, which `onStall` wakes.
package enum DatabaseDeadline {
    package static func run<T: Sendable>(
        seconds: Double, onStall: @escaping @Sendable () -> Void, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let outcome = Outcome<T>()
        return try await withCheckedThrowingContinuation { continuation in
            outcome.start(continuation)
            // Unstructured on purpose: a structured child that never returns would keep its parent
            // waiting too. Task-local values (such as the write turn) are inherited.
            let timer = Task {
                try? await Task.sleep(nanoseconds: UInt64(max(seconds, 0.001) * 1e9))
                if !Task.isCancelled, outcome.finish(.failure(DatabaseStalled(seconds: seconds))) { onStall() }
            }
            Task {
                let result: Result<T, any Error>
                do { result = .success(try await body()) } catch { result = .failure(error) }
                timer.cancel()
                _ = outcome.finish(result)
            }
        }
    }

    /// Resumes the caller once, with whichever of the work and the timer ends first.
    private final class Outcome<T: Sendable>: Sendable {
        private let continuation = NIOLockedValueBox<CheckedContinuation<T, any Error>?>(nil)

        func start(_ continuation: CheckedContinuation<T, any Error>) {
            self.continuation.withLockedValue { $0 = continuation }
        }

        func finish(_ result: Result<T, any Error>) -> Bool {
            guard let continuation = continuation.withLockedValue({ value -> CheckedContinuation<T, any Error>? in
                defer { value = nil }
                return value
            }) else { return false }
            continuation.resume(with: result)
            return true
        }
    }
}
