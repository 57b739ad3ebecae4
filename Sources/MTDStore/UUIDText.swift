import Foundation

/// UUIDs to and from their 36-character text without Foundation's formatter and parser, which cost
/// more than everything else of an event on the replay path (sscanf and snprintf on Linux).
public enum UUIDText {
    private static let hex = Array("0123456789abcdef".utf8)

    /// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in either case; nil for anything else.
    public static func parse(_ text: String) -> UUID? {
        var bytes = [UInt8](repeating: 0, count: 16)
        var index = 0
        var high: UInt8?
        var count = 0
        for (position, character) in text.utf8.enumerated() {
            count += 1
            if [8, 13, 18, 23].contains(position) {
                guard character == 45 else { return nil }
                continue
            }
            let nibble: UInt8
            switch character {
            case 48...57: nibble = character - 48
            case 97...102: nibble = character - 87
            case 65...70: nibble = character - 55
            default: return nil
            }
            if let first = high {
                guard index < 16 else { return nil }
                bytes[index] = first << 4 | nibble
                index += 1
                high = nil
            } else {
                high = nibble
            }
        }
        guard count == 36, index == 16 else { return nil }
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    /// Lowercase text, as the Mobile Risk API and the event payloads write ids.
    public static func lowercase(_ uuid: UUID) -> String {
        withUnsafeBytes(of: uuid.uuid) { raw in
            var out = [UInt8]()
            out.reserveCapacity(36)
            for (index, byte) in raw.enumerated() {
                if [4, 6, 8, 10].contains(index) { out.append(45) }
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0f)])
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}
