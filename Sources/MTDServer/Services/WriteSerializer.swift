/// SQLite allows one writer at a time; taking turns in the process avoids busy-waiting inside
/// SQLite when several check-ins commit at once. PostgreSQL needs no serializer.
///
/// Writes that take access away (the UEM applying tags, profiles and compliance, and sync recording
/// what the UEM accepted) go before queued check-ins: with a thousand check-ins waiting, the UEM
/// must not wait behind all of them.
actor WriteSerializer {
    enum Priority: Sendable {
        case normal
        case urgent
    }

    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var urgentWaiters: [CheckedContinuation<Void, Never>] = []

    func run<T: Sendable>(priority: Priority = .normal, _ body: @Sendable () async throws -> T) async throws -> T {
        await acquire(priority)
        defer { release() }
        return try await body()
    }

    private func acquire(_ priority: Priority) async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { continuation in
            switch priority {
            case .normal: waiters.append(continuation)
            case .urgent: urgentWaiters.append(continuation)
            }
        }
    }

    private func release() {
        if !urgentWaiters.isEmpty {
            urgentWaiters.removeFirst().resume()
        } else if !waiters.isEmpty {
            waiters.removeFirst().resume()
        } else {
            busy = false
        }
    }
}

/// Runs database writes: through the serializer on SQLite, directly on PostgreSQL.
struct WriteGate: Sendable {
    let serializer: WriteSerializer?

    func run<T: Sendable>(priority: WriteSerializer.Priority = .normal, _ body: @Sendable () async throws -> T) async throws -> T {
        if let serializer { return try await serializer.run(priority: priority, body) }
        return try await body()
    }
}
