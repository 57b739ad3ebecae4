import MTDServices
import Fluent
import Foundation
import Logging
import MTDStore
import NIOConcurrencyHelpers
import Vapor

/// Wake-up latency of event-log consumers (`openmtd bench wakeup`): the time from an event's
/// transaction having committed to a waiting consumer being woken.
///
/// - In one process: the writer commits through the write gate, whose signal wakes the waiter.
/// - Across replicas (PostgreSQL only): a second application with its own connection pool and its
///   own listener (as a second replica has) is woken by PostgreSQL's NOTIFY. Both sit in this
///   process so that one clock times both ends; the path is the one two processes take over
///   loopback.
///
/// Events are spaced `spacingMilliseconds` apart, so the figures are latencies, not queueing.
public enum WakeupBenchmark {
    public struct Figures: Sendable, Codable {
        public var path: String
        public var events: Int
        public var woken: Int
        public var p50ms: Double
        public var p99ms: Double
        public var maxms: Double
    }

    public static func run(databaseURL: String?, dataDirectory: String, events: Int, spacingMilliseconds: Int,
                           progress: @Sendable (String) -> Void) async throws -> [Figures] {
        let writer = try await Application.make(Environment(name: "production", arguments: ["openmtd"]))
        writer.logger.logLevel = .warning
        var readers: [Application] = []
        do {
            let usesSQLite = try await DatabaseSetup.use(databaseURL: databaseURL, sqlitePath: dataDirectory + "/wakeup.sqlite",
                                                         dataDirectory: dataDirectory, on: writer)
            for migration in StoreMigrations.all { writer.migrations.add(migration) }
            try await writer.autoMigrate()
            guard let enterpriseID = try await enterprise(on: writer.db) else { throw ServerStartupError("no enterprise could be created") }
            let local = EventSignal()
            let writes = WriteGate(serializer: usesSQLite ? WriteSerializer() : nil, committed: local)
            progress("in one process: \(events) events, \(spacingMilliseconds) ms apart…")
            var figures = [try await measure(path: "in-process", signal: local, writes: writes, database: writer.db, enterpriseID: enterpriseID,
                                             events: events, spacing: spacingMilliseconds)]
            if let databaseURL, !databaseURL.isEmpty {
                let reader = try await Application.make(Environment(name: "production", arguments: ["openmtd"]))
                readers.append(reader)
                reader.logger.logLevel = .warning
                let remote = EventSignal()
                let listener = Task {
                    await PostgresWakeups.run(databaseURL: databaseURL, eventLoop: reader.eventLoopGroup.any(), signal: remote,
                                              logger: Logger(label: "openmtd.bench.wakeups"))
                }
                // The listener signals once it listens.
                _ = await remote.wait(after: 0, timeout: 10)
                progress("across replicas (PostgreSQL NOTIFY): \(events) events…")
                figures.append(try await measure(path: "across-replicas", signal: remote, writes: writes, database: writer.db,
                                                 enterpriseID: enterpriseID, events: events, spacing: spacingMilliseconds))
                listener.cancel()
                await listener.value
            }
            for reader in readers { try await reader.asyncShutdown() }
            try await writer.asyncShutdown()
            return figures
        } catch {
            for reader in readers { try? await reader.asyncShutdown() }
            try? await writer.asyncShutdown()
            throw error
        }
    }

    private static func enterprise(on database: any Database) async throws -> UUID? {
        if let existing = try await EnterpriseModel.query(on: database).first() { return existing.id }
        let enterprise = EnterpriseModel()
        enterprise.name = "wake-up benchmark"
        try await enterprise.create(on: database)
        return enterprise.id
    }

    private static func measure(path: String, signal: EventSignal, writes: WriteGate, database: any Database, enterpriseID: UUID,
                                events: Int, spacing: Int) async throws -> Figures {
        let wakes = NIOLockedValueBox<[ContinuousClock.Instant]>([])
        let done = NIOLockedValueBox(false)
        let waiter = Task {
            var seen = signal.generation
            while !done.withLockedValue({ $0 }) {
                let woke = await signal.wait(after: seen, timeout: 1)
                let now = ContinuousClock.now
                seen = signal.generation
                if woke { wakes.withLockedValue { $0.append(now) } }
            }
        }
        // Per event: when its transaction began and when the writer saw it commit. A notification
        // can reach the other side before the writer hears COMMIT's answer: that counts as 0 ms.
        var started: [ContinuousClock.Instant] = []
        var committed: [ContinuousClock.Instant] = []
        for index in 0..<events {
            started.append(ContinuousClock.now)
            try await writes.run {
                try await database.transaction { tx in
                    try await EventLog.append([
                        EventLog.NewEvent(type: .audit, change: .created, actor: .system, target: EventParty(type: "ENTERPRISE", guid: nil),
                                          payload: AuditPayload(type: "WAKEUP_BENCHMARK", changes: [.init(name: "index", to: "\(index)")]))
                    ], enterpriseID: enterpriseID, on: tx, now: Date())
                }
            }
            committed.append(ContinuousClock.now)
            try await Task.sleep(nanoseconds: UInt64(spacing) * 1_000_000)
        }
        try await Task.sleep(nanoseconds: 200_000_000)
        done.withLockedValue { $0 = true }
        signal.signal()
        await waiter.value
        let seen = wakes.withLockedValue { $0 }
        var latencies: [Double] = []
        for index in 0..<events {
            let end = index + 1 < events ? started[index + 1] : ContinuousClock.now
            guard let wake = seen.first(where: { $0 >= started[index] && $0 < end }) else { continue }
            let elapsed = wake - committed[index]
            let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            latencies.append(max(milliseconds, 0))
        }
        let sorted = latencies.sorted()
        func quantile(_ q: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let value = sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))]
            return (value * 100).rounded() / 100
        }
        return Figures(path: path, events: events, woken: sorted.count, p50ms: quantile(0.5), p99ms: quantile(0.99), maxms: quantile(1))
    }
}
