import Foundation

/// A token bucket per key (client address): failed activation attempts are limited so that
/// enrollment codes cannot be guessed. Successful activations cost nothing: a company rolling the
/// agent out to thousands of phones behind one NAT address must not be throttled. Per process;
/// each replica limits on its own.
actor RateLimiter {
    let capacity: Double
    let refillPerSecond: Double
    private var buckets: [String: (tokens: Double, updated: Date)] = [:]

    init(capacity: Int, perMinute: Int) {
        self.capacity = Double(capacity)
        self.refillPerSecond = Double(perMinute) / 60
    }

    /// nil when the key may try; otherwise the seconds to wait. Takes nothing.
    func wait(_ key: String, now: Date = Date()) -> Int? {
        guard let stored = buckets[key] else { return nil }
        let tokens = min(capacity, stored.tokens + now.timeIntervalSince(stored.updated) * refillPerSecond)
        return tokens >= 1 ? nil : Int(((1 - tokens) / refillPerSecond).rounded(.up))
    }

    /// Spends a token (a failed attempt); nil when one was left, otherwise the seconds to wait.
    @discardableResult
    func take(_ key: String, now: Date = Date()) -> Int? {
        var bucket = buckets[key] ?? (capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + now.timeIntervalSince(bucket.updated) * refillPerSecond)
        bucket.updated = now
        if bucket.tokens >= 1 {
            bucket.tokens -= 1
            buckets[key] = bucket
            if buckets.count > 100_000 { buckets = buckets.filter { $0.value.tokens < capacity } }
            return nil
        }
        buckets[key] = bucket
        return Int(((1 - bucket.tokens) / refillPerSecond).rounded(.up))
    }
}
