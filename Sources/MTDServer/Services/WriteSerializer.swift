/// SQLite allows one writer at a time; taking turns in the process avoids busy-waiting inside
/// SQLite when several check-ins commit at once. PostgreSQL needs no serializer.
actor WriteSerializer {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty {
            busy = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}

/// Runs database writes: through the serializer on SQLite, directly on PostgreSQL.
struct WriteGate: Sendable {
    let serializer: WriteSerializer?

    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if let serializer { return try await serializer.run(body) }
        return try await body()
    }
}
