import Foundation
import NIOConcurrencyHelpers
import Vapor

/// Requests in flight, and whether the server is stopping. At shutdown, before the databases close,
/// new requests are answered 503 without touching the database and the ones in flight are given a
/// few seconds to finish: Fluent traps on a request that reaches for a database already shut down,
/// which a request arriving on a kept-alive connection during shutdown (the server calling its own
/// built-in UEM, say) used to do.
final class ShutdownGate: Sendable {
    private struct State {
        var closing = false
        var inFlight = 0
    }

    private let state = NIOLockedValueBox(State())

    /// False once the server is stopping; otherwise the request is counted until `leave`.
    func enter() -> Bool {
        state.withLockedValue { state in
            guard !state.closing else { return false }
            state.inFlight += 1
            return true
        }
    }

    func leave() {
        state.withLockedValue { $0.inFlight = max(0, $0.inFlight - 1) }
    }

    /// Stops admitting requests and waits, at most `seconds`, for those in flight.
    func close(waitingAtMost seconds: Double = 10) async {
        state.withLockedValue { $0.closing = true }
        let deadline = Date().addingTimeInterval(seconds)
        while state.withLockedValue({ $0.inFlight }) > 0, Date() < deadline {
            do {
                try await Task.sleep(nanoseconds: 20_000_000)
            } catch {
                return // a cancelled shutdown stops waiting, which is what it asks for
            }
        }
    }
}

/// The outermost middleware: counts each request through the gate, or answers 503 with
/// Retry-After while the server stops (clients retry against another replica or after the restart).
/// A streamed body (the event stream) is written after `respond` returns, so it is not waited for.
struct ShutdownGateMiddleware: AsyncMiddleware {
    let gate: ShutdownGate

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard gate.enter() else {
            var headers = HTTPHeaders()
            headers.contentType = .json
            headers.replaceOrAdd(name: .retryAfter, value: "2")
            let body = #"{"error":{"code":"shutting_down","message":"the server is stopping; retry in a moment"}}"#
            return Response(status: .serviceUnavailable, headers: headers, body: .init(string: body))
        }
        defer { gate.leave() }
        return try await next.respond(to: request)
    }
}
