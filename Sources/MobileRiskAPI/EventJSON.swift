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
        self.init(EventLog.Row(
            id: event.id ?? 0, enterpriseID: event.enterpriseID, type: event.type, changeType: event.changeType, createdAt: event.createdAt,
            actorType: event.actorType, actorID: event.actorID, targetType: event.targetType, targetID: event.targetID, payload: event.payload))
    }

    public init(_ event: EventLog.Row) {
        position = event.id
        enterpriseID = event.enterpriseID
        type = event.type
        var text = ""
        text.reserveCapacity(event.payload.utf8.count + 320)
        text += "{\"id\":\"" + EventStreamID.encode(position) + "\""
        text += ",\"enterprise_guid\":\"" + UUIDText.lowercase(event.enterpriseID) + "\""
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
    /// Formatted by hand: Foundation's formatter was the largest cost of a replay.
    static func timestamp(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        // Years 1970 to 9999; anything else (never written by OpenMTD) goes through Foundation.
        guard seconds.isFinite, seconds >= 0, seconds < 253_402_300_800 else {
            let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC") ?? .current)
            let text = date.formatted(style)
            return text.hasSuffix("Z") ? String(text.dropLast()) + "+00:00" : text
        }
        let millis = Int((seconds * 1000).rounded(.down))
        let days = millis / 86_400_000
        var rest = millis % 86_400_000
        let hour = rest / 3_600_000
        rest %= 3_600_000
        let minute = rest / 60_000
        rest %= 60_000
        // Civil date from days since 1970-01-01 (proleptic Gregorian).
        let shifted = days + 719_468
        let era = shifted / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        var bytes = [UInt8](repeating: 0, count: 29)
        func put(_ value: Int, at offset: Int, digits: Int) {
            var value = value
            for index in stride(from: offset + digits - 1, through: offset, by: -1) {
                bytes[index] = UInt8(48 + value % 10)
                value /= 10
            }
        }
        put(year, at: 0, digits: 4)
        bytes[4] = 45
        put(month, at: 5, digits: 2)
        bytes[7] = 45
        put(day, at: 8, digits: 2)
        bytes[10] = 84
        put(hour, at: 11, digits: 2)
        bytes[13] = 58
        put(minute, at: 14, digits: 2)
        bytes[16] = 58
        put(rest / 1000, at: 17, digits: 2)
        bytes[19] = 46
        put(rest % 1000, at: 20, digits: 3)
        for (offset, byte) in "+00:00".utf8.enumerated() { bytes[23 + offset] = byte }
        return String(decoding: bytes, as: UTF8.self)
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
