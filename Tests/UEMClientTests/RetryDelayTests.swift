import Foundation
import Testing
@testable import UEMClient

/// The UEM's Retry-After and x-ratelimit-reset are input: whatever they say, the wait is finite and
/// within 0...60 s (a negative or NaN value used to reach `UInt64(…)` and trap).
struct RetryDelayTests {
    let now = Date(timeIntervalSince1970: 1_796_126_400)

    @Test(arguments: ["-5", "nan", "-inf", "inf", "1e308", "-1e308", " 7 ", "abc", "", "0"])
    func hostileRetryAfterStaysInBounds(_ header: String) {
        let delay = WorkspaceOneClient.retryDelay(attempt: 1, retryAfter: header, rateLimitReset: nil, now: now, jitter: 1)
        #expect(delay.isFinite && delay >= 0 && delay <= 60, "\(header) → \(delay)")
    }

    @Test func theServersWordWinsWithinBounds() {
        #expect(WorkspaceOneClient.retryDelay(attempt: 1, retryAfter: "7", rateLimitReset: nil, now: now, jitter: 1) == 7)
        #expect(WorkspaceOneClient.retryDelay(attempt: 1, retryAfter: "3600", rateLimitReset: nil, now: now, jitter: 1) == 60)
        #expect(WorkspaceOneClient.retryDelay(attempt: 1, retryAfter: nil, rateLimitReset: "\(now.timeIntervalSince1970 + 12)", now: now, jitter: 1) == 12)
        #expect(WorkspaceOneClient.retryDelay(attempt: 1, retryAfter: nil, rateLimitReset: "-99999999999", now: now, jitter: 1) == 0)
        #expect(WorkspaceOneClient.retryDelay(attempt: 1, retryAfter: nil, rateLimitReset: "nan", now: now, jitter: 1) == 1)
        // Without headers: exponential from 0.2 s, capped at 8 s, even for absurd attempt counts.
        #expect(WorkspaceOneClient.retryDelay(attempt: 1, retryAfter: nil, rateLimitReset: nil, now: now, jitter: 1) == 0.2)
        #expect(WorkspaceOneClient.retryDelay(attempt: 4, retryAfter: nil, rateLimitReset: nil, now: now, jitter: 1) == 1.6)
        #expect(WorkspaceOneClient.retryDelay(attempt: Int.max, retryAfter: nil, rateLimitReset: nil, now: now, jitter: 1) == 8)
        #expect(WorkspaceOneClient.retryDelay(attempt: Int.min, retryAfter: nil, rateLimitReset: nil, now: now, jitter: 1) == 0.2)
    }
}
