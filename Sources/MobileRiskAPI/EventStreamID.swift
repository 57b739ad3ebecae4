import Foundation

/// Event ids on the Mobile Risk API: UUID-shaped strings (as Lookout's are) that sort in log order.
/// The log position sits in the last 15 hex digits, after a fixed prefix, so comparing two ids as
/// strings compares their positions; `00000000-0000-7000-8000-000000000123` is position 0x123.
public enum EventStreamID {
    static let prefix = "00000000-0000-7000-8"
    /// 15 hex digits.
    static let largest = (1 << 60) - 1

    public static func encode(_ position: Int) -> String {
        let clamped = min(max(position, 0), largest)
        let hex = String(clamped, radix: 16)
        let digits = String(repeating: "0", count: 15 - hex.count) + hex
        return prefix + digits.prefix(3) + "-" + digits.dropFirst(3)
    }

    /// What a client sent back as its resume point.
    public enum Resume: Equatable, Sendable {
        /// `id=0`, `id=`, `id=None`, `null`: start without a resume point.
        case none
        case position(Int)
        /// Not an id this server hands out.
        case unknown
    }

    public static func decode(_ text: String?) -> Resume {
        guard let raw = text?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return .none }
        if ["0", "none", "null", "undefined"].contains(raw.lowercased()) { return .none }
        // Plain positions too, as `/api/v1/events` hands them out.
        if raw.count <= 18, raw.allSatisfy(\.isASCII), raw.allSatisfy(\.isNumber), let position = Int(raw) {
            return position == 0 ? .none : .position(position)
        }
        let lower = raw.lowercased()
        guard lower.count == 36, lower.hasPrefix(prefix) else { return .unknown }
        let digits = lower.dropFirst(prefix.count).replacingOccurrences(of: "-", with: "")
        guard digits.count == 15, let position = Int(digits, radix: 16), encode(position) == lower else { return .unknown }
        return position == 0 ? .none : .position(position)
    }
}
