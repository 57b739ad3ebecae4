import Foundation

/// Charts drawn on the server as SVG: no script, no external assets, readable by screen readers
/// through their title and the table that goes with each chart. Pure.
enum SVGChart {
    struct Segment: Sendable, Equatable {
        var label: String
        var value: Int
        /// A CSS class from the console's palette (`c-secure`, `c-high`, …).
        var tone: String
    }

    /// A donut with the total in the middle. Zero values draw nothing; an empty chart draws a grey ring.
    static func donut(_ segments: [Segment], title: String, size: Int = 160) -> HTML {
        let total = segments.reduce(0) { $0 + max($1.value, 0) }
        let radius = 60.0, center = Double(size) / 2, width = 22.0
        let circumference = 2 * Double.pi * radius
        var arcs: [HTML] = []
        var offset = 0.0
        for segment in segments where segment.value > 0 && total > 0 {
            let length = circumference * Double(segment.value) / Double(total)
            // One circle per segment, drawn as a dash of its share, starting at 12 o'clock.
            arcs.append("""
            <circle class="\(segment.tone)" cx="\(fmt(center))" cy="\(fmt(center))" r="\(fmt(radius))" fill="none" stroke-width="\(fmt(width))" \
            stroke-dasharray="\(fmt(length)) \(fmt(circumference - length))" stroke-dashoffset="\(fmt(-offset))" \
            transform="rotate(-90 \(fmt(center)) \(fmt(center)))"><title>\(segment.label): \(segment.value)</title></circle>
            """)
            offset += length
        }
        if arcs.isEmpty {
            arcs.append("<circle class=\"c-empty\" cx=\"\(fmt(center))\" cy=\"\(fmt(center))\" r=\"\(fmt(radius))\" fill=\"none\" stroke-width=\"\(fmt(width))\"></circle>")
        }
        return """
        <svg class="donut" viewBox="0 0 \(size) \(size)" width="\(size)" height="\(size)" role="img" aria-label="\(title): \(total) in total">\
        <title>\(title)</title>\(arcs)\
        <text x="\(fmt(center))" y="\(fmt(center + 8))" text-anchor="middle" class="donut-total">\(total)</text></svg>
        """
    }

    struct Series: Sendable, Equatable {
        var label: String
        var tone: String
        var values: [Int]
    }

    /// Lines over days (oldest first), with a y axis from 0 to the largest value and day labels.
    static func lines(_ series: [Series], days: [String], title: String, width: Int = 640, height: Int = 200) -> HTML {
        let left = 36.0, bottom = 24.0, top = 10.0, right = 10.0
        let plotWidth = Double(width) - left - right, plotHeight = Double(height) - top - bottom
        let maximum = max(1, series.flatMap(\.values).max() ?? 1)
        let count = max(days.count, 1)
        func x(_ index: Int) -> Double { left + (count == 1 ? plotWidth / 2 : plotWidth * Double(index) / Double(count - 1)) }
        func y(_ value: Int) -> Double { top + plotHeight * (1 - Double(value) / Double(maximum)) }
        var parts: [HTML] = []
        for fraction in [0.0, 0.5, 1.0] {
            let value = Int((Double(maximum) * fraction).rounded())
            parts.append("<line class=\"grid\" x1=\"\(fmt(left))\" x2=\"\(fmt(left + plotWidth))\" y1=\"\(fmt(y(value)))\" y2=\"\(fmt(y(value)))\"></line>")
            parts.append("<text class=\"axis\" x=\"\(fmt(left - 6))\" y=\"\(fmt(y(value) + 4))\" text-anchor=\"end\">\(value)</text>")
        }
        let step = max(1, count / 6)
        for (index, day) in days.enumerated() where index % step == 0 || index == count - 1 {
            let anchor = index == count - 1 && count > 1 ? "end" : (index == 0 && count > 1 ? "start" : "middle")
            parts.append("<text class=\"axis\" x=\"\(fmt(x(index)))\" y=\"\(fmt(Double(height) - 6))\" text-anchor=\"\(anchor)\">\(String(day.suffix(5)))</text>")
        }
        for line in series {
            let points = line.values.enumerated().map { "\(fmt(x($0.offset))),\(fmt(y($0.element)))" }.joined(separator: " ")
            parts.append("<polyline class=\"\(line.tone)\" fill=\"none\" stroke-width=\"2\" points=\"\(points)\"><title>\(line.label)</title></polyline>")
        }
        return """
        <svg class="lines" viewBox="0 0 \(width) \(height)" width="100%" role="img" aria-label="\(title)"><title>\(title)</title>\(parts)</svg>
        """
    }

    static func fmt(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
