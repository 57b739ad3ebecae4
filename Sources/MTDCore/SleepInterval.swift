/// Nanoseconds for `Task.sleep` from a number of seconds that came from settings, a remote peer or
/// arithmetic on them. `UInt64(seconds * 1e9)` traps on a negative, NaN or infinite value and on
/// anything past 584 years, and a trap stops every tenant's server; here such values are clamped.
public enum SleepInterval {
    /// The longest sleep handed out: a year, past every setting's bound.
    public static let longestSeconds: Double = 366 * 86_400

    /// `seconds` as nanoseconds, within 0 and `longestSeconds`; NaN and negative values give 0.
    public static func nanoseconds(_ seconds: Double) -> UInt64 {
        guard seconds > 0 else { return 0 }
        return UInt64(min(seconds, longestSeconds) * 1_000_000_000)
    }
}
