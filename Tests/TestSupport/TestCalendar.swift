import Foundation

/// The day the tests' check-in documents were written for (patch level 2026-11-01 and the like).
/// Servers under test evaluate policy as of this day, running forward from it at the pace of the
/// clock, so no test starts failing when the calendar moves on.
public enum TestCalendar {
    public static let documentsWritten = Date(timeIntervalSince1970: 1_796_126_400) // 2026-12-01T12:00:00Z
}
