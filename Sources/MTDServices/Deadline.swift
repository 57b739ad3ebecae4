import Foundation
import NIOConcurrencyHelpers
import MTDCore

/// Work that did not finish in time. For a database write this is most likely a query written to a
/// PostgreSQL connection the server had just closed: PostgresNIO (1.33) drops such a query without
/// ever failing it (docs/reliability.md), and the server answers it like an outage, 503 with
/// Retry-After. For an event stream it is a client that stopped reading.
package struct DeadlineMissed: Error, CustomStringConvertible {
    package var seconds: Double
    package init(seconds: Double) { self.seconds = seconds }
    package var description: String { "the work did not finish within \(seconds) s" }
}

/// Runs work that could wait for ever (a query lost inside the driver, a write to a client that
/// never reads) with a deadline, so that its caller, and everything queued behind it, goes on. The
/// lost work keeps its task, which may never end; `onMissed` is told, so that what it held can be
/// reclaimed (the PostgreSQL pool doctor).
package enum Deadline {
    package static func run<T: Sendable>(
        seconds: Double, onMissed: @escaping @Sendable () -> Void = {}, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let outcome = Outcome<T>()
        return try await withCheckedThrowingContinuation { continuation in
            outcome.start(continuation)
            // Unstructured on purpose: a structured child that never returns would keep its parent
            // waiting too. Task-local values (such as the write turn) are inherited.
            let timer = Task {
                try? await Task.sleep(nanoseconds: SleepInterval.nanoseconds(max(seconds, 0.001)))
                if !Task.isCancelled, outcome.finish(.failure(DeadlineMissed(seconds: seconds))) { onMissed() }
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
