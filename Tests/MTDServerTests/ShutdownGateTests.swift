import Foundation
@testable import MTDServer
import Testing

/// At shutdown no request reaches a database that is closing: the gate waits for the requests in
/// flight, then answers new ones 503 with Retry-After (a trap in Fluent otherwise kills the process).
@Suite struct ShutdownGateTests {
    @Test func closingWaitsForRequestsInFlightAndAdmitsNoNewOne() async throws {
        let gate = ShutdownGate()
        #expect(gate.enter())
        let started = Date()
        let closing = Task { await gate.close(waitingAtMost: 5) }
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(!gate.enter(), "no new request once closing began")
        gate.leave()
        await closing.value
        let waited = Date().timeIntervalSince(started)
        #expect(waited >= 0.2 && waited < 2, "close waited for the request in flight, then returned: \(waited) s")
    }

    @Test func closingGivesUpOnARequestThatNeverEnds() async {
        let gate = ShutdownGate()
        #expect(gate.enter())
        let started = Date()
        await gate.close(waitingAtMost: 0.3)
        #expect(Date().timeIntervalSince(started) < 2)
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
