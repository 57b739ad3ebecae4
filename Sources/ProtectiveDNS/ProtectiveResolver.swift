import Foundation
import Logging
import MTDCore
import MTDDetection
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

/// Where the resolver gets an enterprise's detection engine (its policy and the intelligence).
public protocol DNSPolicySource: Sendable {
    func engine(for enterpriseID: UUID) async throws -> DetectionEngine
}

/// Who asked: the enterprise whose policy applies and, when the transport identifies it, the device.
public struct DNSClient: Sendable, Hashable {
    public var enterpriseID: UUID
    public var deviceID: UUID?

    public init(enterpriseID: UUID, deviceID: UUID? = nil) {
        self.enterpriseID = enterpriseID
        self.deviceID = deviceID
    }
}

/// A name the policy blocked or logs, for the threat pipeline and the counters.
public struct DNSHit: Sendable {
    public var client: DNSClient
    public var host: String
    public var decision: DNSDecision
}

/// One query of an attributed device whose enterprise keeps a query log (`protectiveDNS.queryLogDays`).
public struct DNSQueryRecord: Sendable {
    public var client: DNSClient
    public var host: String
    public var type: DNSRecordType
    public var decision: DNSDecision
}

/// The protective resolver: decides each query against the enterprise's policy, answers blocked
/// names itself (NXDOMAIN or a null address, with an RFC 8914 Extended DNS Error), and forwards
/// the rest to the upstreams through a TTL cache with in-flight deduplication and failover.
/// Transports (UDP, TCP, and later DoH and DoT) hand it raw messages.
public final class ProtectiveResolver: Sendable {
    public struct Settings: Sendable {
        public var upstreams: [DNSUpstream]
        /// How long one upstream gets before the next is asked.
        public var upstreamTimeout: TimeAmount
        public var cacheCapacity: Int
        /// A policy is re-read this often; queries never wait for it once one is loaded.
        public var policyRefreshSeconds: Double
        /// What `tls://` and `https://` upstreams' certificates are checked against.
        public var upstreamTrustRoots: NIOSSLTrustRoots

        public init(upstreams: [DNSUpstream], upstreamTimeout: TimeAmount = .milliseconds(1_500), cacheCapacity: Int = 100_000,
                    policyRefreshSeconds: Double = 5, upstreamTrustRoots: NIOSSLTrustRoots = .default) {
            self.upstreams = upstreams
            self.upstreamTrustRoots = upstreamTrustRoots
            self.upstreamTimeout = upstreamTimeout
            self.cacheCapacity = cacheCapacity
            self.policyRefreshSeconds = policyRefreshSeconds
        }
    }

    /// What a transport does with a message: answer now (blocked, cached or malformed), answer
    /// after an upstream was asked, or drop it (too broken to answer).
    public enum Outcome: Sendable {
        case now([UInt8])
        case later(@Sendable () async -> [UInt8])
        case drop
    }

    let settings: Settings
    let cache: DNSCache
    let metrics: DNSMetrics
    let logger: Logger
    private let policies: any DNSPolicySource
    private let sockets: [any UpstreamConnection]
    private let engines: NIOLockedValueBox<[UUID: (engine: DetectionEngine, loadedAt: UInt64, refreshing: Bool)]>
    private let inFlight: NIOLockedValueBox<[DNSCache.Key: Task<DNSMessage, Never>]>
    /// Index of the upstream that answered last: asked first next time.
    private let preferred: NIOLockedValueBox<Int>
    private let onHit: @Sendable (DNSHit) -> Void
    /// Every query of an attributed device (its resolver is in use), on the hot path.
    private let onDeviceQuery: @Sendable (DNSClient) -> Void
    /// Queries of attributed devices, only when their policy keeps a query log.
    private let onQueryLog: @Sendable (DNSQueryRecord) -> Void

    private init(settings: Settings, policies: any DNSPolicySource, sockets: [any UpstreamConnection], metrics: DNSMetrics, logger: Logger,
                 onHit: @escaping @Sendable (DNSHit) -> Void, onDeviceQuery: @escaping @Sendable (DNSClient) -> Void,
                 onQueryLog: @escaping @Sendable (DNSQueryRecord) -> Void) {
        self.settings = settings
        self.policies = policies
        self.sockets = sockets
        self.metrics = metrics
        self.logger = logger
        self.onHit = onHit
        self.onDeviceQuery = onDeviceQuery
        self.onQueryLog = onQueryLog
        cache = DNSCache(capacity: settings.cacheCapacity)
        engines = NIOLockedValueBox([:])
        inFlight = NIOLockedValueBox([:])
        preferred = NIOLockedValueBox(0)
    }

    public static func start(_ settings: Settings, policies: any DNSPolicySource, group: any EventLoopGroup, metrics: DNSMetrics,
                             logger: Logger, onHit: @escaping @Sendable (DNSHit) -> Void = { _ in },
                             onDeviceQuery: @escaping @Sendable (DNSClient) -> Void = { _ in },
                             onQueryLog: @escaping @Sendable (DNSQueryRecord) -> Void = { _ in }) async throws -> ProtectiveResolver {
        guard !settings.upstreams.isEmpty else { throw DNSConfigurationError("the resolver needs at least one --dns-upstream, e.g. udp://9.9.9.9:53") }
        var sockets: [any UpstreamConnection] = []
        for upstream in settings.upstreams {
            do {
                sockets.append(try await UpstreamConnections.open(upstream, group: group, trustRoots: settings.upstreamTrustRoots))
            } catch {
                for socket in sockets { await socket.close() }
                throw error
            }
        }
        return ProtectiveResolver(settings: settings, policies: policies, sockets: sockets, metrics: metrics, logger: logger, onHit: onHit,
                                  onDeviceQuery: onDeviceQuery, onQueryLog: onQueryLog)
    }

    public func shutdown() async {
        for socket in sockets { await socket.close() }
    }

    static func now() -> UInt64 { UInt64(max(0, NIODeadline.now().uptimeNanoseconds)) }

    // MARK: Answering

    /// Handles one message from a client. `maxSize` is the transport's limit (nil for streams,
    /// which carry up to 65,535 bytes); over UDP the client's EDNS payload size applies.
    public func answer(_ bytes: [UInt8], from client: DNSClient, udp: Bool) -> Outcome {
        metrics.queries.increment()
        let query: DNSMessage
        do {
            query = try DNSMessage(decoding: bytes)
        } catch {
            metrics.malformed.increment()
            // With a readable header, say FORMERR; anything shorter cannot be answered.
            guard bytes.count >= 12, bytes[2] & 0x80 == 0 else { return .drop }
            let reply: [UInt8] = [bytes[0], bytes[1], 0x80 | (bytes[2] & 0x79), 0x80 | DNSResponseCode.formatError.rawValue.low4] + Array(repeating: 0, count: 8)
            return .now(reply)
        }
        guard !query.flags.isResponse else { return .drop }
        if client.deviceID != nil { onDeviceQuery(client) }
        let limit = udp ? Self.udpLimit(query) : 65_535
        if let early = validate(query) { return .now(early.encoded(maxSize: limit)) }
        if ResolverProbe.isProbe(query.questions[0].name.host) { return .now(probeAnswer(query).encoded(maxSize: limit)) }
        guard let engine = engine(for: client.enterpriseID) else {
            return .later { [self] in
                guard let engine = await loadEngine(for: client.enterpriseID) else {
                    return self.failure(query, ExtendedDNSError.other, "the enterprise's policy could not be loaded").encoded(maxSize: limit)
                }
                return await self.resolve(query, engine: engine, client: client, logged: false).encoded(maxSize: limit)
            }
        }
        if let immediate = decidedOrCached(query, engine: engine, client: client, log: true) { return .now(immediate.encoded(maxSize: limit)) }
        return .later { [self] in await self.resolve(query, engine: engine, client: client, logged: true).encoded(maxSize: limit) }
    }

    /// REFUSED with Extended DNS Error 18 (Prohibited) and the reason, for a client the transport
    /// could not admit; a message that is not a query is dropped.
    public func refuse(_ bytes: [UInt8], reason: String) -> Outcome {
        metrics.queries.increment()
        guard let query = try? DNSMessage(decoding: bytes), !query.flags.isResponse else {
            metrics.malformed.increment()
            return .drop
        }
        var reply = query.response(code: .refused)
        if reply.edns != nil { reply.edns?.options = [EDNS.extendedError(ExtendedDNSError.prohibited, reason)] }
        return .now(reply.encoded(maxSize: 65_535))
    }

    /// The resolver's own answer to the agent's probe name (`ResolverProbe`): the marker address for
    /// A, no records for other types; never forwarded, never a hit.
    func probeAnswer(_ query: DNSMessage) -> DNSMessage {
        var reply = query.response(code: .noError)
        let question = query.questions[0]
        if question.type == .a {
            reply.answers = [DNSRecord(name: question.name, type: .a, ttl: 0, data: ResolverProbe.marker)]
        }
        return reply
    }

    /// Over UDP a client may receive its EDNS payload size (at least 512, at most 4,096), else 512.
    static func udpLimit(_ query: DNSMessage) -> Int {
        guard let size = query.edns?.udpPayloadSize else { return 512 }
        return min(4_096, max(512, Int(size)))
    }

    /// Queries the resolver refuses before any policy: not a standard query, not exactly one
    /// question, an EDNS version it does not speak.
    func validate(_ query: DNSMessage) -> DNSMessage? {
        if let edns = query.edns, edns.version > 0 {
            var reply = query.response(code: .badVersion)
            reply.questions = []
            return reply
        }
        guard query.flags.opcode == 0 else { return query.response(code: .notImplemented) }
        guard query.questions.count == 1 else { return query.response(code: .formatError) }
        return nil
    }

    /// The answer when no upstream is needed: a blocked name, or a cached answer.
    /// `log`: this is the query's first decision, for the device's query log when its policy keeps one.
    func decidedOrCached(_ query: DNSMessage, engine: DetectionEngine, client: DNSClient, log: Bool) -> DNSMessage? {
        let host = query.questions[0].name.host
        let decision = engine.dnsDecision(for: host)
        if log, client.deviceID != nil, engine.protectiveDNSRules.queryLogDays != nil {
            onQueryLog(DNSQueryRecord(client: client, host: host, type: query.questions[0].type, decision: decision))
        }
        if decision.verdict != .allow { hit(client, host, decision) }
        if decision.verdict == .block { return blocked(query, decision, rules: engine.protectiveDNSRules) }
        guard let cached = cache.answer(for: DNSCache.Key(query), now: Self.now()) else { return nil }
        metrics.cacheHits.increment()
        return reply(to: query, from: cached)
    }

    /// Asks the upstreams (once for all identical queries in flight), caches, and checks the
    /// CNAME chain: an allowed name that is an alias of a blocked one is blocked too.
    func resolve(_ query: DNSMessage, engine: DetectionEngine, client: DNSClient, logged: Bool) async -> DNSMessage {
        if let immediate = decidedOrCached(query, engine: engine, client: client, log: !logged) { return immediate }
        metrics.cacheMisses.increment()
        let key = DNSCache.Key(query)
        let running = inFlight
        let task: Task<DNSMessage, Never> = running.withLockedValue { tasks in
            if let running = tasks[key] { return running }
            let task = Task { [self] in
                let answer = await forward(query)
                cache.store(answer, for: key, now: Self.now())
                _ = running.withLockedValue { $0.removeValue(forKey: key) }
                return answer
            }
            tasks[key] = task
            return task
        }
        let upstreamAnswer = await task.value
        for record in upstreamAnswer.answers where record.type == .cname {
            guard let target = DNSName(wire: record.data) else { continue }
            let decision = engine.dnsDecision(for: target.host)
            if decision.verdict != .allow { hit(client, target.host, decision) }
            if decision.verdict == .block { return blocked(query, decision, rules: engine.protectiveDNSRules) }
        }
        return reply(to: query, from: upstreamAnswer)
    }

    /// Tries the upstreams in turn, starting with the one that answered last.
    func forward(_ query: DNSMessage) async -> DNSMessage {
        var outgoing = DNSMessage.query(id: 0, name: query.questions[0].name, type: query.questions[0].type,
                                        edns: EDNS(udpPayloadSize: 1_232, dnssecOK: query.edns?.dnssecOK ?? false))
        outgoing.questions[0].recordClass = query.questions[0].recordClass
        outgoing.flags.checkingDisabled = query.flags.checkingDisabled
        outgoing.flags.authenticData = query.flags.authenticData
        let first = preferred.withLockedValue { $0 }
        var lastProblem = "no upstream answered"
        for step in 0..<sockets.count {
            let index = (first + step) % sockets.count
            let socket = sockets[index]
            let started = Self.now()
            do {
                let answer = try await socket.exchange(outgoing, timeout: settings.upstreamTimeout)
                metrics.upstreamSeconds.recordNanoseconds(Int64(clamping: Self.now() - min(Self.now(), started)))
                // SERVFAIL and REFUSED say nothing about the name: another upstream may know it.
                if answer.responseCode == .serverFailure || answer.responseCode == .refused {
                    lastProblem = "\(socket.upstream) answered \(answer.responseCode)"
                    metrics.upstreamErrors.increment()
                    continue
                }
                if index != first { preferred.withLockedValue { $0 = index } }
                return answer
            } catch {
                metrics.upstreamErrors.increment()
                lastProblem = "\(error)"
                logger.debug("upstream failed", metadata: ["upstream": "\(socket.upstream)", "error": "\(error)"])
            }
        }
        logger.warning("no upstream answered", metadata: ["name": "\(query.questions[0].name)", "problem": "\(lastProblem)"])
        return failure(query, ExtendedDNSError.noReachableAuthority, lastProblem)
    }

    // MARK: Building answers

    /// The upstream's (or the cache's) answer, as a reply to this client's query: its id, its
    /// question as written (case included), its EDNS (our payload size, its DO bit), the upstream's
    /// Extended DNS Errors.
    func reply(to query: DNSMessage, from answer: DNSMessage) -> DNSMessage {
        var reply = answer
        reply.id = query.id
        reply.questions = query.questions
        var flags = answer.flags
        flags.recursionDesired = query.flags.recursionDesired
        flags.recursionAvailable = true
        flags.checkingDisabled = query.flags.checkingDisabled
        // AD only to a client that showed it understands it (RFC 6840 §5.8).
        flags.authenticData = answer.flags.authenticData && (query.flags.authenticData || query.edns?.dnssecOK == true)
        reply.flags = flags
        let code = answer.responseCode
        if let edns = query.edns {
            reply.edns = EDNS(udpPayloadSize: 1_232, dnssecOK: edns.dnssecOK,
                              options: answer.edns?.options.filter { $0.code == EDNS.extendedErrorCode } ?? [])
        } else {
            reply.edns = nil
        }
        reply.responseCode = code
        if query.edns?.dnssecOK != true {
            // Without DO the client did not ask for signatures (RFC 4035 §3.2.1).
            let signatures: Set<DNSRecordType> = [.rrsig, DNSRecordType(rawValue: 47), DNSRecordType(rawValue: 50)]
            reply.answers.removeAll { signatures.contains($0.type) && $0.type != query.questions[0].type }
            reply.authorities.removeAll { signatures.contains($0.type) }
        }
        return reply
    }

    func blocked(_ query: DNSMessage, _ decision: DNSDecision, rules: ProtectiveDNSRules) -> DNSMessage {
        metrics.blocked(decision.classification).increment()
        let question = query.questions[0]
        var reply: DNSMessage
        switch rules.blockedAnswer {
        case .nxdomain:
            reply = query.response(code: .nameError)
        case .nullAddress:
            reply = query.response(code: .noError)
            let ttl = UInt32(clamping: rules.blockedTTLSeconds)
            if question.type == .a { reply.answers = [DNSRecord(name: question.name, type: .a, ttl: ttl, data: [0, 0, 0, 0])] }
            if question.type == .aaaa { reply.answers = [DNSRecord(name: question.name, type: .aaaa, ttl: ttl, data: Array(repeating: 0, count: 16))] }
        }
        // A synthesised SOA gives the block its negative TTL, so stubs do not cache it for long.
        if reply.answers.isEmpty, let soa = Self.blockSOA(ttl: UInt32(clamping: rules.blockedTTLSeconds)) { reply.authorities = [soa] }
        if reply.edns != nil, let code = decision.extendedErrorCode {
            reply.edns?.options = [EDNS.extendedError(code, decision.explanation)]
        }
        return reply
    }

    /// `blocked.openmtd.invalid.` as the zone of every block: `.invalid` never resolves (RFC 6761).
    static func blockSOA(ttl: UInt32) -> DNSRecord? {
        guard let zone = DNSName("blocked.openmtd.invalid"), let mailbox = DNSName("hostmaster.openmtd.invalid") else { return nil }
        var data = zone.wire + mailbox.wire
        for value: UInt32 in [1, 3_600, 600, 86_400, ttl] { data += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)] }
        return DNSRecord(name: zone, type: .soa, ttl: ttl, data: data)
    }

    func failure(_ query: DNSMessage, _ code: UInt16, _ text: String) -> DNSMessage {
        var reply = query.response(code: .serverFailure)
        if reply.edns != nil { reply.edns?.options = [EDNS.extendedError(code, text)] }
        return reply
    }

    private func hit(_ client: DNSClient, _ host: String, _ decision: DNSDecision) {
        if decision.verdict == .logOnly { metrics.logged.increment() }
        onHit(DNSHit(client: client, host: host, decision: decision))
    }

    // MARK: Policies

    /// The loaded engine, refreshed in the background once older than the refresh interval.
    func engine(for enterpriseID: UUID) -> DetectionEngine? {
        let now = Self.now()
        let (engine, stale): (DetectionEngine?, Bool) = engines.withLockedValue { engines in
            guard let entry = engines[enterpriseID] else { return (nil, false) }
            let old = Double(now - min(now, entry.loadedAt)) / 1e9 > settings.policyRefreshSeconds
            if old, !entry.refreshing { engines[enterpriseID]?.refreshing = true }
            return (entry.engine, old && !entry.refreshing)
        }
        if stale { Task { [self] in _ = await loadEngine(for: enterpriseID) } }
        return engine
    }

    func loadEngine(for enterpriseID: UUID) async -> DetectionEngine? {
        do {
            let engine = try await policies.engine(for: enterpriseID)
            engines.withLockedValue { $0[enterpriseID] = (engine, Self.now(), false) }
            return engine
        } catch {
            logger.error("the resolver could not load a policy", metadata: ["enterprise": "\(enterpriseID)", "error": "\(error)"])
            return engines.withLockedValue { engines in
                engines[enterpriseID]?.refreshing = false
                return engines[enterpriseID]?.engine
            }
        }
    }
}

extension UInt16 {
    var low4: UInt8 { UInt8(self & 0xF) }
}
