import MTDServices
import Foundation
@testable import MTDServer
import NIOConcurrencyHelpers
import Testing

/// A query lost inside the PostgreSQL driver must not hang its caller: the deadline answers instead
/// and asks for the pools to be checked.
struct DeadlineTests {
    @Test func workThatNeverEndsGivesAStallAfterTheDeadline() async throws {
        let stalls = NIOLockedValueBox(0)
        let started = Date()
        await #expect(throws: DeadlineMissed.self) {
            try await Deadline.run(seconds: 0.2, onMissed: { stalls.withLockedValue { $0 += 1 } }) {
                // Stands for a query the driver dropped: never resumed, not cancellable.
                try await Task.sleep(nanoseconds: 60_000_000_000)
                return 1
            }
        }
        // Long before the work would have ended (60 s): the caller did not wait for it. (Not a timing
        // test: on a loaded machine the timer itself may fire seconds late.)
        #expect(Date().timeIntervalSince(started) < 50)
        #expect(stalls.withLockedValue { $0 } == 1)
        #expect(DatabaseOutage.isOutage(DeadlineMissed(seconds: 0.2)))
    }

    @Test func workThatEndsInTimeKeepsItsResultAndItsError() async throws {
        let stalls = NIOLockedValueBox(0)
        let value = try await Deadline.run(seconds: 5, onMissed: { stalls.withLockedValue { $0 += 1 } }) { 42 }
        #expect(value == 42)
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            try await Deadline.run(seconds: 5, onMissed: { stalls.withLockedValue { $0 += 1 } }) { () async throws -> Int in throw Refused() }
        }
        #expect(stalls.withLockedValue { $0 } == 0)
    }
}
