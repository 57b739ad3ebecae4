import Foundation
import NIOConcurrencyHelpers
import MTDCore

/// Wakes event-log consumers when events commit. Writers call `signal()` after their transaction
/// (see WriteGate), and the PostgreSQL listener calls it for commits in other replicas. A consumer
/// reads `generation` before it looks at the log and waits for a later one, so a commit that lands
/// between its read and its wait is never missed.
package final class EventSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = NIOLockedValueBox(State())

    package init() {}

    package var generation: UInt64 { state.withLockedValue { $0.generation } }

    package func signal() {
        let waiters = state.withLockedValue { state in
            state.generation &+= 1
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the generation has moved past `seen`, after `timeout` seconds, or when the task
    /// is cancelled, whichever comes first. Returns whether a signal (not the timeout) ended the wait.
    @discardableResult
    package func wait(after seen: UInt64, timeout: Double) async -> Bool {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLockedValue { state in
                    if state.generation != seen || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if ready {
                    continuation.resume()
                    return
                }
                Task { [weak self] in
                    try? await Task.sleep(nanoseconds: SleepInterval.nanoseconds(max(timeout, 0.001)))
                    self?.resume(id)
                }
            }
        } onCancel: {
            resume(id)
        }
        return generation != seen
    }

    private func resume(_ id: UUID) {
        let waiter = state.withLockedValue { $0.waiters.removeValue(forKey: id) }
        waiter?.resume()
    }
}
