/// A number a client sent (a query parameter, a body field) that lies outside what the endpoint
/// accepts. Each API turns it into a 400 in its own error format, naming `parameter`.
///
/// Numbers from requests are checked here before any arithmetic uses them: Swift traps on
/// overflow, and a trap stops the whole server for every tenant.
public struct OutOfBounds: Error, Sendable, Equatable, CustomStringConvertible {
    public var parameter: String
    public var message: String

    public init(parameter: String, message: String) {
        self.parameter = parameter
        self.message = message
    }

    public var description: String { "\(parameter): \(message)" }
}

public enum BoundedNumber {
    /// Parses a decimal integer and checks it against `range`; `nil` or empty text gives `fallback`.
    public static func parse(_ text: String?, parameter: String, in range: ClosedRange<Int>, default fallback: Int) throws(OutOfBounds) -> Int {
        guard let text, !text.isEmpty else { return fallback }
        guard let value = Int(text) else {
            throw OutOfBounds(parameter: parameter, message: "\"\(text.prefix(40))\" is not a whole number; use a value from \(range.lowerBound) to \(range.upperBound)")
        }
        return try check(value, parameter: parameter, in: range, default: fallback)
    }

    /// Checks an already decoded integer against `range`; `nil` gives `fallback`.
    public static func check(_ value: Int?, parameter: String, in range: ClosedRange<Int>, default fallback: Int) throws(OutOfBounds) -> Int {
        guard let value else { return fallback }
        guard range.contains(value) else {
            throw OutOfBounds(parameter: parameter, message: "\(value) is out of range; use a value from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }
}

/// One page of a listing: a 0-based page number and a page size whose product (the offset) is
/// known to fit, so `offset` and `range` never trap.
public struct PageWindow: Sendable, Equatable {
    public let page: Int
    public let size: Int

    /// The deepest offset any listing serves. A hundred million rows is beyond every fleet's
    /// listings, and it keeps `page * size` far from `Int.max` on every platform.
    public static let maximumOffset = 100_000_000

    /// The initializers keep `page * size` within `maximumOffset`; the overflow-reporting forms make
    /// that visible here and saturate instead of trapping should a caller's limits ever be absurd.
    public var offset: Int {
        let (product, overflow) = page.multipliedReportingOverflow(by: size)
        return overflow ? Int.max : product
    }

    public var range: Range<Int> {
        let start = offset
        let (end, overflow) = start.addingReportingOverflow(size)
        return start..<(overflow ? Int.max : end)
    }

    /// Checks `page` and `size` (already decoded) against the endpoint's limits.
    /// `clampSize` caps an oversized page size instead of refusing it (Workspace ONE clients ask
    /// for large pages and read the size they got from the answer).
    public init(
        page: Int?, size: Int?, pageParameter: String = "page", sizeParameter: String,
        defaultSize: Int, maximumSize: Int, clampSize: Bool = false
    ) throws(OutOfBounds) {
        var requestedSize = size ?? defaultSize
        if clampSize, requestedSize > maximumSize { requestedSize = maximumSize }
        let size = try BoundedNumber.check(requestedSize, parameter: sizeParameter, in: 1...maximumSize, default: defaultSize)
        let page = try BoundedNumber.check(page, parameter: pageParameter, in: 0...(Self.maximumOffset / size), default: 0)
        self.page = page
        self.size = size
    }

    /// Parses `page` and `size` from query text.
    public init(
        pageText: String?, sizeText: String?, pageParameter: String = "page", sizeParameter: String,
        defaultSize: Int, maximumSize: Int, clampSize: Bool = false
    ) throws(OutOfBounds) {
        // The size is parsed with a wide range first so that clamping still applies to large values.
        let size = try BoundedNumber.parse(sizeText, parameter: sizeParameter, in: Int.min...Int.max, default: defaultSize)
        let page = try BoundedNumber.parse(pageText, parameter: pageParameter, in: Int.min...Int.max, default: 0)
        try self.init(page: page, size: size, pageParameter: pageParameter, sizeParameter: sizeParameter,
                      defaultSize: defaultSize, maximumSize: maximumSize, clampSize: clampSize)
    }
}
