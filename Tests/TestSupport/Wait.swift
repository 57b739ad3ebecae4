import Foundation

/// Waiting for something a server does in the background (a consumer, a sync), checked every
/// 20 ms. Returns the seconds it took, or nil when it did not happen in time (the caller records
/// the failure in its own words).
public enum Wait {
    public static func until(within seconds: Double, _ condition: () async throws -> Bool) async throws -> Double? {
        let started = ContinuousClock.now
        let limit = Duration.milliseconds(Int64(seconds * 1000))
        while try await !condition() {
            guard ContinuousClock.now - started < limit else { return nil }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        let elapsed = ContinuousClock.now - started
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
