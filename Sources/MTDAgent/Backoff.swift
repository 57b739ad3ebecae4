import Foundation

/// How long to wait before trying again. Pure: the random draw is a parameter.
public struct Backoff: Sendable, Equatable {
    public var base: Double
    public var cap: Double

    public init(base: Double = 2, cap: Double = 600) {
        self.base = base
        self.cap = cap
    }

    /// Exponential in the attempt (1, 2, 3 …) with "equal jitter" (half fixed, half random) so a fleet
    /// that failed together does not retry together; the server's Retry-After wins when given.
    public func delay(attempt: Int, retryAfter: Double?, random: Double) -> Double {
        if let retryAfter, retryAfter >= 0 { return min(retryAfter, cap) }
        let exponential = min(cap, base * pow(2, Double(max(attempt, 1) - 1)))
        return exponential / 2 + exponential / 2 * min(max(random, 0), 1)
    }
}
