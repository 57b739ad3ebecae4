import Foundation

/// A token bucket per key (client address): activation attempts are limited so that enrollment
/// codes cannot be guessed. Per process; each replica limits on its own.
actor RateLimiter {
    let capacity: Double
    let refillPerSecond: Double
    private var buckets: [String: (tokens: Double, updated: Date)] = [:]

    init(capacity: Int, perMinute: Int) {
        self.capacity = Double(capacity)
        self.refillPerSecond = Double(perMinute) / 60
    }

    /// nil when allowed; otherwise the seconds to wait.
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
