/// An immutable hash table of lowercase ASCII keys (domains, IPs, app ids) built for lookups that
/// neither allocate nor copy: a host is hashed once, from its last byte to its first, and every
/// dot-boundary suffix is probed on the way, so "a.b.evil.com" checks itself, "b.evil.com",
/// "evil.com" and "com" in one pass.
struct HostKeyTable: Sendable {
    private let keyBytes: [UInt8]
    private let keyOffsets: [UInt32]
    private let keyLengths: [UInt16]
    /// IP-address keys: they match the whole host only, never as a "parent" of a longer name.
    private let exactKeys: [Bool]
    private let firstRef: [UInt32]
    private let refs: [IndicatorRef]
    private let nextRef: [UInt32]
    /// Open addressing: 0 means empty, otherwise key index + 1.
    private let slots: [UInt32]
    private let slotHashes: [UInt32]
    private let mask: Int

    var keyCount: Int { keyOffsets.count }
    var refCount: Int { refs.count }

    static let noRef = UInt32.max

    init(builder: Builder) {
        var keyBytes: [UInt8] = []
        var keyOffsets: [UInt32] = []
        var keyLengths: [UInt16] = []
        var exactKeys: [Bool] = []
        var firstRef: [UInt32] = []
        var refs: [IndicatorRef] = []
        var nextRef: [UInt32] = []
        keyBytes.reserveCapacity(builder.byteCount)
        for (key, keyRefs) in builder.entries {
            keyOffsets.append(UInt32(keyBytes.count))
            keyLengths.append(UInt16(key.count))
            keyBytes.append(contentsOf: key)
            exactKeys.append(key.withUnsafeBufferPointer { Self.isIPv4Literal($0, $0.count) })
            var head = Self.noRef
            for ref in keyRefs.reversed() {
                refs.append(ref)
                nextRef.append(head)
                head = UInt32(refs.count - 1)
            }
            firstRef.append(head)
        }
        var capacity = 16
        while capacity < keyOffsets.count * 2 { capacity <<= 1 }
        var slots = [UInt32](repeating: 0, count: capacity)
        var slotHashes = [UInt32](repeating: 0, count: capacity)
        let mask = capacity - 1
        for index in 0..<keyOffsets.count {
            let start = Int(keyOffsets[index])
            let hash = Self.hash(keyBytes[start..<(start + Int(keyLengths[index]))])
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = UInt32(index + 1)
            slotHashes[slot] = UInt32(truncatingIfNeeded: hash >> 32)
        }
        self.keyBytes = keyBytes
        self.keyOffsets = keyOffsets
        self.keyLengths = keyLengths
        self.exactKeys = exactKeys
        self.firstRef = firstRef
        self.refs = refs
        self.nextRef = nextRef
        self.slots = slots
        self.slotHashes = slotHashes
        self.mask = mask
    }

    /// FNV-1a over the bytes from last to first, lowercasing ASCII on the way.
    @inline(__always)
    static func step(_ hash: UInt64, _ byte: UInt8) -> UInt64 {
        let lower = byte &- 65 < 26 ? byte | 0x20 : byte
        return (hash ^ UInt64(lower)) &* 0x100_0000_01b3
    }

    static let seed: UInt64 = 0xcbf2_9ce4_8422_2325

    static func hash(_ bytes: some BidirectionalCollection<UInt8>) -> UInt64 {
        var hash = seed
        for byte in bytes.reversed() { hash = step(hash, byte) }
        return hash
    }

    /// Key index of `bytes[start..<end]`, compared case-insensitively, given its hash.
    @inline(__always)
    private func find(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, hash: UInt64) -> Int? {
        var slot = Int(truncatingIfNeeded: hash) & mask
        let check = UInt32(truncatingIfNeeded: hash >> 32)
        let length = end - start
        return keyBytes.withUnsafeBufferPointer { keys in
            while true {
                let entry = slots[slot]
                if entry == 0 { return nil }
                if slotHashes[slot] == check {
                    let key = Int(entry - 1)
                    if Int(keyLengths[key]) == length {
                        let offset = Int(keyOffsets[key])
                        var equal = true
                        for index in 0..<length {
                            let byte = bytes[start + index]
                            let lower = byte &- 65 < 26 ? byte | 0x20 : byte
                            if keys[offset + index] != lower {
                                equal = false
                                break
                            }
                        }
                        if equal { return key }
                    }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    /// Calls `body` with the key index of the host and of each parent domain that is a key, most specific first.
    /// Returns early when `body` returns false. IP-address keys match only the whole host (`exactKeys`),
    /// so the host itself needs no IP check.
    @inline(__always)
    func forEachSuffixMatch(_ host: String, exactOnly: Bool = false, _ body: (Int) -> Bool) {
        var host = host
        host.withUTF8 { forEachSuffixMatch(bytes: $0, exactOnly: exactOnly, body) }
    }

    @inline(__always)
    func forEachSuffixMatch(bytes buffer: UnsafeBufferPointer<UInt8>, exactOnly: Bool = false, _ body: (Int) -> Bool) {
        var end = buffer.count
        while end > 0, buffer[end - 1] == UInt8(ascii: ".") { end -= 1 }
        guard end > 0 else { return }
        let exact = exactOnly
        var hash = Self.seed
        var index = end
        var matches: [Int] = []
        while index > 0 {
            index -= 1
            hash = Self.step(hash, buffer[index])
            let boundary = index == 0 || (!exact && buffer[index - 1] == UInt8(ascii: "."))
            if boundary, let key = find(buffer, index, end, hash: hash), index == 0 || !exactKeys[key] {
                matches.append(key)
            }
        }
        // Most specific (longest) first.
        for key in matches.reversed() where !body(key) { return }
    }

    /// Whether the host or a parent domain is a key; the fastest form, used by bulk matching.
    @inline(__always)
    func containsSuffix(bytes buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        var end = buffer.count
        while end > 0, buffer[end - 1] == UInt8(ascii: ".") { end -= 1 }
        guard end > 0 else { return false }
        var hash = Self.seed
        var index = end
        while index > 0 {
            index -= 1
            hash = Self.step(hash, buffer[index])
            let boundary = index == 0 || buffer[index - 1] == UInt8(ascii: ".")
            if boundary, let key = find(buffer, index, end, hash: hash), index == 0 || !exactKeys[key] { return true }
        }
        return false
    }

    /// Whether any key occurs anywhere in the bytes: every substring is probed, ending position by
    /// ending position, extending the reversed hash one byte at a time.
    func containsSubstring(bytes buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        var end = buffer.count
        while end > 0 {
            var hash = Self.seed
            var index = end
            while index > 0 {
                index -= 1
                hash = Self.step(hash, buffer[index])
                if find(buffer, index, end, hash: hash) != nil { return true }
            }
            end -= 1
        }
        return false
    }

    func contains(host: String) -> Bool {
        var host = host
        return host.withUTF8 { containsSuffix(bytes: $0) }
    }

    func key(at index: Int) -> String {
        let start = Int(keyOffsets[index])
        return String(decoding: keyBytes[start..<(start + Int(keyLengths[index]))], as: UTF8.self)
    }

    func forEachRef(ofKey index: Int, _ body: (IndicatorRef) -> Void) {
        var cursor = firstRef[index]
        while cursor != Self.noRef {
            body(refs[Int(cursor)])
            cursor = nextRef[Int(cursor)]
        }
    }

    static func isIPv4Literal(_ buffer: UnsafeBufferPointer<UInt8>, _ end: Int) -> Bool {
        var dots = 0
        for index in 0..<end {
            let byte = buffer[index]
            if byte == UInt8(ascii: ".") { dots += 1 } else if byte < 48 || byte > 57 { return false }
        }
        return dots == 3
    }

    /// Collects keys (normalized to lowercase, without trailing dots) and their provenance.
    struct Builder {
        private(set) var entries: [[UInt8]: [IndicatorRef]] = [:]
        private(set) var byteCount = 0

        mutating func insert(_ key: String, _ ref: IndicatorRef) {
            var key = key
            key.withUTF8 { insert(bytes: $0, ref) }
        }

        mutating func insert(bytes key: UnsafeBufferPointer<UInt8>, _ ref: IndicatorRef) {
            var bytes = Array(key)
            while bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
            while bytes.first == UInt8(ascii: ".") { bytes.removeFirst() }
            guard !bytes.isEmpty, bytes.count < Int(UInt16.max) else { return }
            for index in bytes.indices where bytes[index] &- 65 < 26 { bytes[index] |= 0x20 }
            if entries[bytes] == nil {
                byteCount += bytes.count
                entries[bytes] = [ref]
            } else if entries[bytes]?.contains(ref) == false {
                entries[bytes]?.append(ref)
            }
        }
    }
}
