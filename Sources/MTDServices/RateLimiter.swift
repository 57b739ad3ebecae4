import FluentKit
import Foundation
import MTDStore

/// A token bucket per key (client address) in the database, shared by every replica: failed
/// activation attempts and failed logins are limited so that enrollment codes and passwords cannot
/// be guessed, however many replicas a load balancer spreads the guesses over. Successful
/// activations cost nothing: a company rolling the agent out to thousands of phones behind one NAT
/// address must not be throttled.
package struct RateLimiter: Sendable {
    /// Which limiter a bucket belongs to (`activation`, `login`).
    package let scope: String
    package let capacity: Double
    package let refillPerSecond: Double
    package let writes: WriteGate

    package init(scope: String, capacity: Int, perMinute: Int, writes: WriteGate) {
        self.scope = scope
        self.capacity = Double(max(capacity, 1))
        self.refillPerSecond = Double(max(perMinute, 1)) / 60
        self.writes = writes
    }

    /// nil when the key may try; otherwise the seconds to wait. Takes nothing.
    package func wait(_ key: String, on database: any Database, now: Date = Date()) async throws -> Int? {
        guard let stored = try await RateLimitBuckets.find(scope: scope, key: key, on: database) else { return nil }
        return secondsToWait(tokens: refilled(stored, now: now))
    }

    /// Spends a token (a failed attempt); nil when one was left, otherwise the seconds to wait.
    @discardableResult
    package func take(_ key: String, on database: any Database, now: Date = Date()) async throws -> Int? {
        let wait: Int? = try await writes.run(priority: .urgent) {
            try await database.transaction { tx in
                var tokens = capacity
                if let stored = try await RateLimitBuckets.lock(scope: scope, key: key, on: tx) { tokens = refilled(stored, now: now) }
                let allowed = tokens >= 1
                if allowed { tokens -= 1 }
                try await RateLimitBuckets.store(scope: scope, key: key, bucket: .init(tokens: tokens, updatedAt: now), on: tx)
                return allowed ? nil : secondsToWait(tokens: tokens)
            }
        }
        // Buckets refill completely within capacity / refill seconds; older rows are noise.
        if Int.random(in: 0..<100) == 0 {
            let before = now.addingTimeInterval(-capacity / refillPerSecond - 60)
            try await writes.run { try await RateLimitBuckets.prune(scope: scope, before: before, on: database) }
        }
        return wait
    }

    private func refilled(_ bucket: RateLimitBuckets.Bucket, now: Date) -> Double {
        let elapsed = max(now.timeIntervalSince(bucket.updatedAt), 0)
        let tokens = bucket.tokens + elapsed * refillPerSecond
        return tokens.isFinite ? min(capacity, max(tokens, 0)) : capacity
    }

    private func secondsToWait(tokens: Double) -> Int? {
        guard tokens < 1 else { return nil }
        let seconds = ((1 - tokens) / refillPerSecond).rounded(.up)
        return seconds.isFinite ? Int(min(max(seconds, 1), 86_400)) : 60
    }
}
