import MTDCore
import NIOConcurrencyHelpers

/// Answers kept for their TTL (RFC 1035 §7.4), and negative answers for the SOA's negative TTL
/// (RFC 2308 §5). Time is a parameter (monotonic nanoseconds) so tests control it.
public final class DNSCache: Sendable {
    public struct Key: Hashable, Sendable {
        var name: [UInt8]
        var type: UInt16
        var recordClass: UInt16
        /// DO and CD change what an upstream answers, so they are part of the key.
        var dnssecOK: Bool
        var checkingDisabled: Bool

        public init(_ query: DNSMessage) {
            let question = query.questions.first
            name = question?.name.lowercased.wire ?? [0]
            type = question?.type.rawValue ?? 0
            recordClass = question?.recordClass ?? 1
            dnssecOK = query.edns?.dnssecOK ?? false
            checkingDisabled = query.flags.checkingDisabled
        }
    }

    struct Entry {
        var message: DNSMessage
        var storedAt: UInt64
        var expiresAt: UInt64
    }

    public let capacity: Int
    public static let maxTTL: UInt32 = 86_400
    public static let maxNegativeTTL: UInt32 = 3_600
    /// Shards, each with its own lock, so the event loops answering at once rarely wait for each other.
    private let shards: [NIOLockedValueBox<[Key: Entry]>]
    private let shardCapacity: Int

    public init(capacity: Int = 100_000, shards: Int = 16) {
        self.capacity = max(1, capacity)
        let count = max(1, min(shards, self.capacity))
        self.shards = (0..<count).map { _ in NIOLockedValueBox([:]) }
        shardCapacity = max(1, self.capacity / count)
    }

    public var count: Int { shards.reduce(0) { total, shard in total + shard.withLockedValue { $0.count } } }

    private func shard(_ key: Key) -> NIOLockedValueBox<[Key: Entry]> {
        // Hash values may be negative; the magnitude picks the shard.
        shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))]
    }

    /// A cached answer with its TTLs counted down by its age, or nil.
    public func answer(for key: Key, now: UInt64) -> DNSMessage? {
        let entries = shard(key)
        guard let entry = entries.withLockedValue({ $0[key] }) else { return nil }
        guard now < entry.expiresAt else {
            entries.withLockedValue { if $0[key]?.expiresAt == entry.expiresAt { $0[key] = nil } }
            return nil
        }
        let age = UInt32(clamping: (now - min(now, entry.storedAt)) / 1_000_000_000)
        guard age > 0 else { return entry.message }
        var message = entry.message
        func aged(_ records: inout [DNSRecord]) {
            for index in records.indices { records[index].ttl = records[index].ttl > age ? records[index].ttl - age : 0 }
        }
        aged(&message.answers)
        aged(&message.authorities)
        aged(&message.additionals)
        return message
    }

    /// Keeps `response` for as long as it may be reused; SERVFAIL, truncated answers and negative
    /// answers without an SOA are not kept.
    public func store(_ response: DNSMessage, for key: Key, now: UInt64) {
        guard let ttl = Self.cacheTTL(response), ttl > 0 else { return }
        let entry = Entry(message: response, storedAt: now, expiresAt: now &+ UInt64(ttl) * 1_000_000_000)
        let capacity = shardCapacity
        shard(key).withLockedValue { entries in
            if entries.count >= capacity, entries[key] == nil {
                // Full: drop what has expired, else an arbitrary tenth, so a flood of unique names
                // costs one sweep per tenth of the capacity rather than one per insert.
                entries = entries.filter { $0.value.expiresAt > now }
                if entries.count >= capacity {
                    for key in entries.keys.prefix(max(1, capacity / 10)) { entries[key] = nil }
                }
            }
            entries[key] = entry
        }
    }

    /// How long an answer may be reused, in seconds; nil when it must not be cached.
    static func cacheTTL(_ response: DNSMessage) -> UInt32? {
        guard !response.flags.truncated else { return nil }
        let code = response.responseCode
        let soa = response.authorities.first { $0.type == .soa }
        if code == .nameError || (code == .noError && response.answers.isEmpty) {
            guard let soa, soa.data.count >= 4 else { return nil }
            let minimum = soa.data.suffix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            return min(soa.ttl, minimum, maxNegativeTTL)
        }
        guard code == .noError else { return nil }
        let ttls = (response.answers + response.authorities).map(\.ttl)
        return min(ttls.min() ?? 0, maxTTL)
    }
}
