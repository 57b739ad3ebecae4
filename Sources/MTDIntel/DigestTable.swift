import MTDCore

/// Signer and package-hash indicators keyed by digest. A digest's leading word is already a uniform
/// hash, so this open-addressing table skips the general-purpose hasher that dominated lookups.
struct DigestTable: Sendable {
    private let keys: [HexDigest]
    private let values: [[IndicatorRef]]
    private let slots: [Int32]
    private let mask: Int

    init(_ entries: [HexDigest: [IndicatorRef]]) {
        keys = Array(entries.keys)
        values = keys.map { entries[$0] ?? [] }
        var capacity = 16
        while capacity < keys.count * 2 { capacity <<= 1 }
        var slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
        for (index, key) in keys.enumerated() {
            var slot = Int(truncatingIfNeeded: key.leadingWord) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index)
        }
        self.slots = slots
    }

    var count: Int { keys.count }

    @inline(__always)
    subscript(digest: HexDigest) -> [IndicatorRef]? {
        var slot = Int(truncatingIfNeeded: digest.leadingWord) & mask
        while true {
            let index = Int(slots[slot])
            if index < 0 { return nil }
            if keys[index] == digest { return values[index] }
            slot = (slot + 1) & mask
        }
    }
}
