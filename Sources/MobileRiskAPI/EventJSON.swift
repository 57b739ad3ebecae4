import Foundation
import MTDStore

/// One event of the log as a Mobile Risk API event object, rendered once as JSON text: `id`,
/// `enterprise_guid`, `created_time` (ISO 8601 with an offset), `type`, `change_type`, `actor`,
/// `target`, and the type block under its lowercase name, as stored (already Lookout v2 shaped).
public struct RenderedEvent: Sendable {
    public var position: Int
    public var enterpriseID: UUID
    public var type: String
    public var json: String

    public init(_ event: EventModel) {
        position = event.id ?? 0
        enterpriseID = event.enterpriseID
        type = event.type
        var text = "{\"id\":\"" + EventStreamID.encode(position) + "\""
        text += ",\"enterprise_guid\":\"" + event.enterpriseID.uuidString.lowercased() + "\""
        text += ",\"created_time\":\"" + Self.timestamp(event.createdAt) + "\""
        text += ",\"type\":" + Self.quoted(event.type)
        text += ",\"change_type\":" + Self.quoted(event.changeType)
        text += ",\"actor\":{\"type\":" + Self.quoted(event.actorType)
        if let guid = event.actorID { text += ",\"guid\":" + Self.quoted(guid) }
        text += "},\"target\":{\"type\":" + Self.quoted(event.targetType)
        if !event.targetID.isEmpty { text += ",\"guid\":" + Self.quoted(event.targetID) }
        text += "},"
        text += Self.quoted(event.type.lowercased()) + ":" + (event.payload.isEmpty ? "{}" : event.payload)
        text += "}"
        json = text
    }

    /// `2025-02-20T09:55:18.817+00:00`: milliseconds and an explicit offset, as Lookout sends.
    static func timestamp(_ date: Date) -> String {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC") ?? .current)
        let text = date.formatted(style)
        return text.hasSuffix("Z") ? String(text.dropLast()) + "+00:00" : text
    }

    /// A JSON string literal.
    static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
