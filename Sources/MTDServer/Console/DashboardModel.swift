import Foundation
import MTDCore

/// What the dashboard shows, computed from counts the database gives. Pure.
struct DashboardModel: Sendable, Equatable {
    var security: [String: Int]
    var activation: [String: Int]
    var connection: [String: Int]
    var openThreatsByClassification: [(String, Int)]
    /// Oldest day first.
    var days: [String]
    var opened: [Int]
    var resolved: [Int]
    /// Seconds from a threat's detection to the UEM confirming the risk tag, over recent threats.
    var syncLatencies: [Double]
    /// Names the protective resolver blocked and logged per day, oldest first (`dns_daily_counts`).
    var dnsBlocked: [Int] = []
    var dnsLogged: [Int] = []

    static func == (lhs: DashboardModel, rhs: DashboardModel) -> Bool {
        lhs.security == rhs.security && lhs.activation == rhs.activation && lhs.connection == rhs.connection
            && lhs.openThreatsByClassification.map(\.0) == rhs.openThreatsByClassification.map(\.0)
            && lhs.openThreatsByClassification.map(\.1) == rhs.openThreatsByClassification.map(\.1)
            && lhs.days == rhs.days && lhs.opened == rhs.opened && lhs.resolved == rhs.resolved && lhs.syncLatencies == rhs.syncLatencies
            && lhs.dnsBlocked == rhs.dnsBlocked && lhs.dnsLogged == rhs.dnsLogged
    }

    var securitySegments: [SVGChart.Segment] {
        [("Secure", "SECURE", "c-secure"), ("Low risk", "THREATS_LOW", "c-low"), ("Medium risk", "THREATS_MEDIUM", "c-medium"), ("High risk", "THREATS_HIGH", "c-high")]
            .map { SVGChart.Segment(label: $0.0, value: security[$0.1] ?? 0, tone: $0.2) }
    }

    var activationSegments: [SVGChart.Segment] {
        [("Activated", "ACTIVATED", "c-secure"), ("Pending", "PENDING", "c-pending"), ("Deactivated", "DEACTIVATED", "c-medium"), ("Deleted", "DELETED", "c-other")]
            .map { SVGChart.Segment(label: $0.0, value: activation[$0.1] ?? 0, tone: $0.2) }
    }

    var connectionSegments: [SVGChart.Segment] {
        [("Connected", "CONNECTED", "c-secure"), ("Unreachable", "UNREACHABLE", "c-medium"), ("Disconnected", "DISCONNECTED", "c-high")]
            .map { SVGChart.Segment(label: $0.0, value: connection[$0.1] ?? 0, tone: $0.2) }
    }

    /// Median and 95th percentile, in seconds; nil without data.
    var syncLatency: (median: Double, p95: Double)? {
        guard !syncLatencies.isEmpty else { return nil }
        let sorted = syncLatencies.sorted()
        func at(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))] }
        return (at(0.5), at(0.95))
    }

    /// Counts per day for the last `days` days ending `today` (days since 1970), oldest first.
    static func perDay(_ dates: [Date], today: Int, days: Int) -> [Int] {
        var counts = Array(repeating: 0, count: days)
        for date in dates {
            let index = Timestamp.day(of: date) - (today - days + 1)
            if (0..<days).contains(index) { counts[index] += 1 }
        }
        return counts
    }

    /// Counts keyed by day, as a series for the last `days` days ending `today`, oldest first.
    static func series(_ byDay: [Int: Int], today: Int, days: Int) -> [Int] {
        (0..<days).map { byDay[today - days + 1 + $0] ?? 0 }
    }

    static func dayLabels(today: Int, days: Int) -> [String] {
        (0..<days).map { Timestamp.string(fromDay: today - days + 1 + $0) }
    }
}
