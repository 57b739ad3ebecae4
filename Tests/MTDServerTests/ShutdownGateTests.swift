import Foundation
@testable import MTDServer
import NIOConcurrencyHelpers
import Testing

/// At shutdown no request reaches a database that is closing: the gate waits for the requests in
/// flight, then answers new ones 503 with Retry-After (a trap in Fluent otherwise kills the process).
/// Order, not speed, is asserted: beside the whole suite on two cores a 20 ms sleep can take seconds.
@Suite struct ShutdownGateTests {
    @Test func closingWaitsForRequestsInFlightAndAdmitsNoNewOne() async throws {
        let gate = ShutdownGate()
        #expect(gate.enter())
        let left = NIOLockedValueBox(false)
        let closing = Task { () -> Bool in
            await gate.close(waitingAtMost: 60)
            return left.withLockedValue { $0 }
        }
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(!gate.enter(), "no new request once closing began")
        left.withLockedValue { $0 = true }
        gate.leave()
        #expect(await closing.value, "close returned only after the request in flight left")
    }

    @Test func closingGivesUpOnARequestThatNeverEnds() async {
        let gate = ShutdownGate()
        #expect(gate.enter())
        await gate.close(waitingAtMost: 0.3)
        #expect(!gate.enter(), "closed even though a request never left")
    }

    @Test func aStoppingServerAnswers503WithRetryAfter() async throws {
        try await withServer(.sqlite) { server in
            var reply = try await server.send(.GET, "/healthz")
            #expect(reply.status == 200)
            await server.app.mtd.shutdownGate.close(waitingAtMost: 1)
            reply = try await server.send(.GET, "/healthz")
            #expect(reply.status == 503 && reply.errorCode == "shutting_down", "\(reply.text)")
            #expect(reply.headers.first(name: "Retry-After") == "2")
            reply = try await server.send(.GET, "/API/system/info")
            #expect(reply.status == 503, "the built-in UEM's routes too: \(reply.text)")
        }
    }
}
