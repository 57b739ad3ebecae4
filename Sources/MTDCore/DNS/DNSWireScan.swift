/// Facts read straight off a message's wire form without decoding it, for hot paths that need only
/// them (a DoH answer's Cache-Control). Every step is bounds-checked; a malformed message is nil.
public enum DNSWireScan {
    /// The smallest TTL among the answer and authority records (the SOA's for a negative answer);
    /// nil when there is none or the message is malformed.
    public static func minimumTTL(_ bytes: [UInt8]) -> UInt32? {
        guard bytes.count >= 12 else { return nil }
        let questions = Int(bytes[4]) << 8 | Int(bytes[5])
        let records = (Int(bytes[6]) << 8 | Int(bytes[7])) + (Int(bytes[8]) << 8 | Int(bytes[9]))
        var offset = 12
        for _ in 0..<questions {
            guard let end = endOfName(bytes, from: offset), bytes.count - end >= 4 else { return nil }
            offset = end + 4
        }
        var minimum: UInt32?
        for _ in 0..<records {
            guard let end = endOfName(bytes, from: offset), bytes.count - end >= 10 else { return nil }
            let ttl = UInt32(bytes[end + 4]) << 24 | UInt32(bytes[end + 5]) << 16 | UInt32(bytes[end + 6]) << 8 | UInt32(bytes[end + 7])
            let length = Int(bytes[end + 8]) << 8 | Int(bytes[end + 9])
            guard bytes.count - end - 10 >= length else { return nil }
            minimum = Swift.min(minimum ?? ttl, ttl)
            offset = end + 10 + length
        }
        return minimum
    }

    /// Where the (possibly compressed) name at `start` ends in the message: past its root label or
    /// its first pointer. Pointers are not followed, so this never loops.
    static func endOfName(_ bytes: [UInt8], from start: Int) -> Int? {
        var offset = start
        while offset < bytes.count {
            let length = bytes[offset]
            switch length & 0xC0 {
            case 0x00:
                if length == 0 { return offset + 1 }
                offset += 1 + Int(length)
            case 0xC0:
                return bytes.count - offset >= 2 ? offset + 2 : nil
            default:
                return nil
            }
        }
        return nil
    }
}
