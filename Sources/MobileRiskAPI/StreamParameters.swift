import Fluent
import Foundation
import MTDStore

/// The query of `GET /mra/stream/v2/events` and `GET /mra/api/v2/events`, in every spelling real
/// Lookout clients send: `types` or `type`, `id` or `last_id`, `start_time` with or without an offset.
struct StreamParameters {
    /// nil: every type.
    var types: Set<String>?
    var resume: EventStreamID.Resume
    var startTime: Date?

    static let knownTypes = ["THREAT", "DEVICE", "AUDIT", "SMISHING_ALERT"]
    /// How far back `start_time` may reach (Lookout's promise: 10 days).
    static let maximumLookback: TimeInterval = 10 * 86_400

    init(query: [String: String], lastEventID: String?, now: Date) throws {
        let typeText = query["types"].flatMap { $0.isEmpty ? nil : $0 } ?? query["type"] ?? ""
        var types = Set<String>()
        for raw in typeText.split(separator: ",") {
            let name = raw.trimmingCharacters(in: .whitespaces).uppercased()
            if name.isEmpty { continue }
            guard Self.knownTypes.contains(name) else {
                throw MRAError.invalidRequest(
                    "unknown event type \"\(name.prefix(40))\"; use \(Self.knownTypes.joined(separator: ", "))",
                    parameter: query["types"] != nil ? "types" : "type")
            }
            types.insert(name)
        }
        self.types = types.isEmpty ? nil : types
        let idText = query["id"].flatMap { $0.isEmpty ? nil : $0 } ?? query["last_id"].flatMap { $0.isEmpty ? nil : $0 } ?? lastEventID
        resume = EventStreamID.decode(idText)
        if let text = query["start_time"], !text.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let date = Self.parseTime(text) else {
                throw MRAError.invalidRequest(
                    "start_time must be an ISO 8601 time such as 2026-12-01T08:00:00Z (without an offset it is UTC)", parameter: "start_time")
            }
            // Older than the stream keeps: from as far back as it goes.
            startTime = max(date, now.addingTimeInterval(-Self.maximumLookback))
        }
    }

    /// Event types of the log a filter lets through (SMISHING_ALERT has none yet).
    var logTypes: [EventType]? {
        types.map { names in EventType.allCases.filter { names.contains($0.rawValue) } }
    }

    /// ISO 8601 with or without fractional seconds and offset; a date alone is its midnight, UTC.
    static func parseTime(_ raw: String) -> Date? {
        var text = raw.trimmingCharacters(in: .whitespaces)
        guard text.count <= 40 else { return nil }
        if text.count == 10 { text += "T00:00:00" }
        // A space instead of the T, and "+0000" offsets, both seen in the wild.
        if text.count > 10, text[text.index(text.startIndex, offsetBy: 10)] == " " {
            text = String(text.prefix(10)) + "T" + text.dropFirst(11)
        }
        let timePart = text.dropFirst(11)
        let hasOffset = timePart.hasSuffix("Z") || timePart.hasSuffix("z") || timePart.contains("+") || timePart.contains("-")
        if !hasOffset { text += "Z" }
        for fractional in [false, true] {
            let style = Date.ISO8601FormatStyle(includingFractionalSeconds: fractional)
            if let date = try? style.parse(text) { return date }
        }
        return nil
    }
}
