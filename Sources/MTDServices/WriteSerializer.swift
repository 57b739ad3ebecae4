import FluentSQLiteDriver
import MTDStore

/// SQLite allows one writer at a time; taking turns in the process avoids busy-waiting inside
/// SQLite when several check-ins commit at once. PostgreSQL needs no serializer.
///
/// Writes that take access away (the UEM applying tags, profiles and compliance, and sync recording
/// what the UEM accepted) go before queued check-ins: with a thousand check-ins waiting, the UEM
/// must not wait behind all of them.
package actor WriteSerializer {
    package enum Priority: Sendable {
        case normal
        case urgent
    }

    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var urgentWaiters: [CheckedContinuation<Void, Never>] = []

    package init() {}

    package func run<T: Sendable>(priority: Priority = .normal, _ body: @Sendable () async throws -> T) async throws -> T {
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
///
/// A write inside a write (a policy load that audits a broken version while a check-in holds the
/// turn) runs in the turn it is already in: the serializer is not re-entrant, and waiting for
/// itself would hang. On SQLite a transaction that still meets a busy database (another process
/// writing the same file, such as an `openmtd` command) is rolled back by SQLite and tried again,
/// so clients never see "database is locked".
package struct WriteGate: Sendable {
    package let serializer: WriteSerializer?
    /// Woken after a write that appended events commits, so consumers act at once.
    package var committed: EventSignal?
    /// Told when a write on PostgreSQL missed its deadline (see Deadline); nil: no deadline.
    package var stalled: (@Sendable () -> Void)?

    package init(serializer: WriteSerializer?, committed: EventSignal? = nil, stalled: (@Sendable () -> Void)? = nil) {
        self.serializer = serializer
        self.committed = committed
        self.stalled = stalled
    }

    /// How long a write on PostgreSQL may take before its caller gets a 503: far above any write's
    /// normal time (lock waits included), far below a client's patience.
    package static let deadlineSeconds = 15.0

    @TaskLocal package static var holdsTurn = false

    /// Attempts for a write that meets a busy SQLite database, with 10, 20, 40 … ms between them.
    package static let busyAttempts = 8

    package func run<T: Sendable>(priority: WriteSerializer.Priority = .normal, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        guard let committed else { return try await turn(priority: priority, body) }
        // Any append in this process moves the counter; a write that saw it move wakes the consumers
        // after it returned, that is after its transaction committed. A concurrent writer's append
        // may cause a spare wake-up, never a missed one: that writer signals after its own commit.
        let before = EventLog.appends.load(ordering: .relaxed)
        let result = try await turn(priority: priority, body)
        if EventLog.appends.load(ordering: .relaxed) != before { committed.signal() }
        return result
    }

    private func turn<T: Sendable>(priority: WriteSerializer.Priority, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        guard let serializer else {
            guard let stalled else { return try await body() }
            return try await Deadline.run(seconds: Self.deadlineSeconds, onMissed: stalled, body)
        }
        guard !Self.holdsTurn else { return try await body() }
        return try await serializer.run(priority: priority) {
            try await Self.$holdsTurn.withValue(true) {
                var attempt = 1
                while true {
                    do {
                        return try await body()
                    } catch let error as SQLiteError where Self.isBusy(error.reason) && attempt < Self.busyAttempts {
                        try await Task.sleep(nanoseconds: UInt64(10_000_000) << UInt64(attempt - 1))
                        attempt += 1
                    }
                }
            }
        }
    }

    private static func isBusy(_ reason: SQLiteError.Reason) -> Bool {
        switch reason {
        case .busy, .locked, .busyInSnapshot, .busyTimeout, .busyInRecovery: true
        default: false
        }
    }
}
