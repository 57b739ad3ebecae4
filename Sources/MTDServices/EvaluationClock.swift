import Foundation

/// The clock policy evaluation reads "today" from (patch-level age, OS support windows). Injected so
/// that tests pin the day their documents were written for instead of failing once the calendar
/// moves on; the server uses the system clock. Timestamps (check-in times, events, sweeps) keep the
/// system clock, so connection ages stay real.
public struct EvaluationClock: Sendable {
    public var now: @Sendable () -> Date

    public init(now: @escaping @Sendable () -> Date) {
        self.now = now
    }

    public static let system = EvaluationClock { Date() }

    /// Runs from `start` at the pace of the system clock.
    public static func starting(at start: Date) -> EvaluationClock {
        let origin = Date()
        return EvaluationClock { start.addingTimeInterval(Date().timeIntervalSince(origin)) }
    }
}
