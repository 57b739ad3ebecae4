import NIOConcurrencyHelpers

/// Lets one `runDue` run at a time in this process; the others wait their turn. Without it the
/// consumer's batch and its tick could both read the same PENDING executions and perform them
/// twice (the lease keeps other replicas out; this keeps a replica's own two paths apart).
final class RunGate: Sendable {
    private let state = NIOLockedValueBox<(busy: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func run<T: Sendable>(_ work: () async throws -> T) async throws -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let enter = state.withLockedValue { state -> Bool in
                guard state.busy else {
                    state.busy = true
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if enter { continuation.resume() }
        }
        defer {
            // Hand the gate to the next waiter, still busy, or open it.
            let next = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
                guard !state.waiting.isEmpty else {
                    state.busy = false
                    return nil
                }
                return state.waiting.removeFirst()
            }
            next?.resume()
        }
        return try await work()
    }
}
