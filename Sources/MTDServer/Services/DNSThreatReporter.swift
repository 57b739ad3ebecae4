import FluentKit
import Foundation
import Logging
import MTDCore
import MTDDetection
import MTDServices
import MTDStore
import NIOConcurrencyHelpers
import ProtectiveDNS
import SQLKit

/// Turns the resolver's blocks and "log only" hits of attributed devices into WEB_CONTENT threats,
/// through the same threat rows, device ledger and event log as a check-in, so they reach tags,
/// compliance, the Mobile Risk API stream and automations like any threat.
///
/// Queries never wait for this: hits are collected in memory (one per device and indicator) and
/// written every `flushInterval`. A threat the resolver opened is left alone by check-ins and
/// resolves after the policy's `resolveAfterDays` without another query of its indicator (its
/// `updated_at` is the last query seen).
///
/// It also keeps each device's last query (`resolver_tokens.last_query_at`, to the minute): with
/// the policy's `silenceHours`, a device that checks in while its resolver stays silent gets a
/// PCP_DISABLED threat, resolved as soon as its queries come back.
final class DNSThreatReporter: Sendable {
    private struct Pending {
        var enterpriseID: UUID
        var hosts: [String: (host: String, decision: DNSDecision)] = [:]
    }

    /// Devices whose resolver was used since the last flush, and when each was last written, so a
    /// device's last query is written at most once per `activityResolution`.
    private struct Activity {
        var used: Set<UUID> = []
        var written: [UUID: Date] = [:]
    }

    private let pending = NIOLockedValueBox<[UUID: Pending]>([:])
    private let activity = NIOLockedValueBox(Activity())
    /// Blocks and logged hits of every client, attributed or not, for `dns_daily_counts`.
    private let counts = NIOLockedValueBox<[DNSDailyCounts.Key: Int]>([:])
    static let activityResolution: TimeInterval = 60
    private let writes: WriteGate
    private let policies: PolicyService
    private let database: @Sendable () -> any Database
    private let logger = Logger(label: "openmtd.dns.threats")
    /// Hits waiting at most, so a flood of distinct names cannot grow memory without bound.
    static let capacity = 50_000

    /// Device query logs, where a policy keeps them; flushed and purged with the rest.
    let queryLog: DNSQueryLogWriter

    init(writes: WriteGate, policies: PolicyService, database: @escaping @Sendable () -> any Database) {
        self.writes = writes
        self.policies = policies
        self.database = database
        queryLog = DNSQueryLogWriter(writes: writes, database: database)
    }

    /// Called on the resolver's hot path: dictionary updates under a lock.
    func record(_ hit: DNSHit, now: Date = Date()) {
        let key = DNSDailyCounts.Key(enterpriseID: hit.client.enterpriseID, day: Timestamp.day(of: now),
                                     classification: hit.decision.classification?.rawValue ?? "OTHER",
                                     verdict: hit.decision.verdict == .block ? "BLOCK" : "LOG_ONLY")
        counts.withLockedValue { counts in
            // Keys are few (enterprises × classes × 2 a day); the bound only guards against a bug.
            if counts[key] != nil || counts.count < Self.capacity { counts[key, default: 0] += 1 }
        }
        guard let deviceID = hit.client.deviceID, let indicator = hit.decision.indicator else { return }
        pending.withLockedValue { pending in
            if pending[deviceID] == nil {
                guard pending.count < Self.capacity else { return }
                pending[deviceID] = Pending(enterpriseID: hit.client.enterpriseID)
            }
            pending[deviceID]?.hosts[indicator] = (hit.host, hit.decision)
        }
    }

    /// Called on the hot path for every query of an attributed device.
    func recordQuery(_ client: DNSClient, now: Date = Date()) {
        guard let deviceID = client.deviceID else { return }
        activity.withLockedValue { activity in
            if let written = activity.written[deviceID], now.timeIntervalSince(written) < Self.activityResolution { return }
            guard activity.used.count < Self.capacity else { return }
            activity.used.insert(deviceID)
        }
    }

    /// Writes the devices' last query, and resolves the silence threats of those that came back.
    func flushActivity(now: Date = Date()) async throws {
        let used = activity.withLockedValue { activity -> Set<UUID> in
            defer { activity.used.removeAll(keepingCapacity: true) }
            if activity.written.count >= Self.capacity * 4 { activity.written.removeAll() }
            for deviceID in activity.used { activity.written[deviceID] = now }
            return activity.used
        }
        guard !used.isEmpty else { return }
        let database = self.database()
        for chunk in Array(used).chunked(500).map(Array.init) {
            try await writes.run {
                try await ResolverTokenModel.query(on: database).set(\.$lastQueryAt, to: now)
                    .filter(\.$deviceID ~~ chunk).filter(\.$revokedAt == nil).update()
            }
            let silenced = try await ThreatModel.query(on: database).filter(\.$device.$id ~~ chunk).filter(\.$status == .open)
                .filter(\.$classification == ThreatClassification.pcpDisabled.rawValue).filter(\.$subject == ThreatKey.resolverSilenceSubject).all()
            for (deviceID, threats) in Dictionary(grouping: silenced, by: { $0.$device.id }) {
                _ = try await resolve(threats.compactMap(\.id), deviceID: deviceID, now: now, reason: "the protective resolver has queries from the device again")
            }
        }
    }

    /// Adds the collected counters to `dns_daily_counts`; on failure they are kept for the next flush.
    func flushCounts() async throws {
        let batch = counts.withLockedValue { counts -> [DNSDailyCounts.Key: Int] in
            defer { counts.removeAll(keepingCapacity: true) }
            return counts
        }
        guard !batch.isEmpty, let sql = database() as? any SQLDatabase else { return }
        do {
            try await writes.run { try await DNSDailyCounts.add(batch, on: sql) }
        } catch {
            counts.withLockedValue { counts in counts.merge(batch, uniquingKeysWith: +) }
            throw error
        }
    }

    /// Writes what was collected; returns the number of devices written.
    @discardableResult
    func flush(now: Date = Date()) async -> Int {
        do { try await flushCounts() } catch {
            logger.error("could not record the resolver's counters", metadata: ["error": "\(error)"])
        }
        do { try await queryLog.flush() } catch {
            logger.error("could not write the device query log", metadata: ["error": "\(error)"])
        }
        do { try await flushActivity(now: now) } catch {
            logger.error("could not record the devices' resolver activity", metadata: ["error": "\(error)"])
        }
        let batch = pending.withLockedValue { pending -> [UUID: Pending] in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        var written = 0
        for (deviceID, hits) in batch {
            do {
                let engine = try await policies.current(for: hits.enterpriseID, on: database(), now: now).engine
                let findings = hits.hosts.values.compactMap { engine.dnsFinding(host: $0.host, decision: $0.decision) }
                try await observe(findings, deviceID: deviceID, now: now)
                written += 1
            } catch {
                logger.error("could not record the resolver's hits as threats", metadata: ["device": "\(deviceID)", "error": "\(error)"])
            }
        }
        return written
    }

    /// Opens a threat per new finding and marks known ones as seen again.
    func observe(_ findings: [Finding], deviceID: UUID, now: Date) async throws {
        guard !findings.isEmpty else { return }
        let database = self.database()
        try await writes.run {
            try await database.transaction { tx in
                guard let device = try await DeviceModel.find(deviceID, on: tx), device.activationStatus == .activated else { return }
                let stored = try await ThreatModel.query(on: tx).filter(\.$device.$id == deviceID).filter(\.$status ~~ [.open, .ignored]).all()
                let (_, byKey) = ThreatLedger.knownThreats(stored)
                let actor = EventParty(type: "RESOLVER", guid: deviceID.uuidString.lowercased())
                var plan = ThreatLedger.Plan()
                for finding in findings {
                    if let threat = byKey[finding.key] {
                        // Seen again: the resolution clock starts over.
                        threat.updatedAt = now
                        try await threat.update(on: tx)
                        continue
                    }
                    let threat = ThreatLedger.newThreat(finding, device: device, now: now)
                    plan.created.append(threat)
                    plan.outcome.opened += 1
                    plan.outcome.events.append(ThreatLedger.event(threat, .created, actor: actor))
                }
                guard !plan.created.isEmpty else { return }
                try await ThreatLedger.write(plan, now: now, on: tx)
                let status = try await DeviceLedger.storedSecurityStatus(of: deviceID, on: tx)
                let deviceEvent = try await DeviceLedger.record(device, actor: actor, on: tx) { $0.securityStatus = status }
                try await EventLog.append(plan.outcome.events + (deviceEvent.map { [$0] } ?? []), enterpriseID: device.$enterprise.id, on: tx, now: now)
            }
        }
    }

    /// Resolves the resolver's open threats whose indicator was not queried for the policy's days.
    @discardableResult
    func resolveQuiet(now: Date = Date()) async throws -> Int {
        let database = self.database()
        let open = try await ThreatModel.query(on: database).filter(\.$status == .open)
            .filter(\.$subject =~ ThreatKey.resolverSubjectPrefix).filter(\.$subject != ThreatKey.resolverSilenceSubject).all()
        var resolved = 0
        for (enterpriseID, threats) in Dictionary(grouping: open, by: \.enterpriseID) {
            let days = try await policies.current(for: enterpriseID, on: database, now: now).engine.protectiveDNSRules.resolveAfterDays
            let cutoff = now.addingTimeInterval(-Double(days) * 86_400)
            for (deviceID, quiet) in Dictionary(grouping: threats.filter { ($0.updatedAt ?? $0.detectedAt) < cutoff }, by: { $0.$device.id }) {
                resolved += try await resolve(quiet.compactMap(\.id), deviceID: deviceID, now: now,
                                              reason: "no query of this indicator through the protective resolver for \(days) days")
            }
        }
        return resolved
    }

    /// Opens PCP_DISABLED for devices that check in while their resolver is silent (policies with
    /// `silenceHours`); resolves it where the policy no longer watches. Returns the threats opened.
    @discardableResult
    func raiseSilence(now: Date = Date()) async throws -> Int {
        let database = self.database()
        var opened = 0
        for enterprise in try await EnterpriseModel.query(on: database).all() {
            guard let enterpriseID = enterprise.id else { continue }
            let engine = try await policies.current(for: enterpriseID, on: database, now: now).engine
            let rules = engine.protectiveDNSRules
            let watching = try await ThreatModel.query(on: database).filter(\.$enterpriseID == enterpriseID).filter(\.$status ~~ [.open, .ignored])
                .filter(\.$classification == ThreatClassification.pcpDisabled.rawValue).filter(\.$subject == ThreatKey.resolverSilenceSubject).all()
            guard let hours = rules.silenceHours else {
                for (deviceID, threats) in Dictionary(grouping: watching.filter { $0.status == .open }, by: { $0.$device.id }) {
                    _ = try await resolve(threats.compactMap(\.id), deviceID: deviceID, now: now, reason: "the policy no longer watches for a silent resolver")
                }
                continue
            }
            let windowStart = now.addingTimeInterval(-Double(hours) * 3_600)
            let flagged = Set(watching.map { $0.$device.id })
            let tokens = try await ResolverTokenModel.query(on: database).filter(\.$enterpriseID == enterpriseID).filter(\.$revokedAt == nil)
                .group(.or) { silent in
                    silent.filter(\.$lastQueryAt < windowStart)
                    silent.group(.and) { never in never.filter(\.$lastQueryAt == nil).filter(\.$createdAt < windowStart) }
                }
                .all()
            for chunk in tokens.filter({ !flagged.contains($0.deviceID) }).chunked(500).map(Array.init) {
                let devices = try await DeviceModel.query(on: database).filter(\.$id ~~ chunk.map(\.deviceID))
                    .filter(\.$activationStatus == .activated).filter(\.$lastCheckInAt >= windowStart).all()
                let byDevice = Dictionary(chunk.map { ($0.deviceID, $0) }, uniquingKeysWith: { first, _ in first })
                for device in devices {
                    guard let deviceID = device.id, let token = byDevice[deviceID] else { continue }
                    let since = token.lastQueryAt ?? token.createdAt
                    guard rules.resolverIsSilent(lastQueryAt: since, lastCheckInAt: device.lastCheckInAt, now: now) else { continue }
                    try await observe([engine.resolverSilenceFinding(silentSince: since, queriedBefore: token.lastQueryAt != nil)], deviceID: deviceID, now: now)
                    opened += 1
                }
            }
        }
        return opened
    }

    private func resolve(_ ids: [UUID], deviceID: UUID, now: Date, reason: String) async throws -> Int {
        let database = self.database()
        return try await writes.run {
            try await database.transaction { tx in
                guard let device = try await DeviceModel.find(deviceID, on: tx) else { return 0 }
                // Read again inside the transaction: another replica or a query may have got there first.
                let threats = try await ThreatModel.query(on: tx).filter(\.$id ~~ ids).filter(\.$status == .open).all()
                let actor = EventParty(type: "RESOLVER", guid: deviceID.uuidString.lowercased())
                var events: [EventLog.NewEvent] = []
                for threat in threats {
                    threat.status = .resolved
                    threat.resolvedAt = now
                    threat.statusReason = reason
                    try await threat.update(on: tx)
                    events.append(ThreatLedger.event(threat, .updated, actor: actor))
                }
                guard !events.isEmpty else { return 0 }
                let status = try await DeviceLedger.storedSecurityStatus(of: deviceID, on: tx)
                let deviceEvent = try await DeviceLedger.record(device, actor: actor, on: tx) { $0.securityStatus = status }
                try await EventLog.append(events + (deviceEvent.map { [$0] } ?? []), enterpriseID: device.$enterprise.id, on: tx, now: now)
                return threats.count
            }
        }
    }

    /// Flushes every `flushInterval`; resolves quiet threats every `resolveInterval` where `mayResolve`
    /// (the replica holding the connection sweeper's lease, so replicas do not race for it).
    func run(flushInterval: Duration = .milliseconds(500), resolveInterval: TimeInterval = 300, mayResolve: @escaping @Sendable () -> Bool) async {
        var lastResolve = Date.distantPast
        while !Task.isCancelled {
            do { try await Task.sleep(for: flushInterval) } catch { break }
            await flush()
            if Date().timeIntervalSince(lastResolve) >= resolveInterval, mayResolve() {
                lastResolve = Date()
                do { try await resolveQuiet() } catch {
                    logger.error("could not resolve quiet resolver threats", metadata: ["error": "\(error)"])
                }
                do { try await raiseSilence() } catch {
                    logger.error("could not check for silent resolvers", metadata: ["error": "\(error)"])
                }
                if let sql = database() as? any SQLDatabase {
                    do { try await writes.run { try await DNSDailyCounts.deleteBefore(day: Timestamp.day(of: Date()) - 400, on: sql) } } catch {
                        logger.error("could not delete old resolver counters", metadata: ["error": "\(error)"])
                    }
                }
                do { try await queryLog.purge(policies: policies) } catch {
                    logger.error("could not delete expired query log entries", metadata: ["error": "\(error)"])
                }
            }
        }
        await flush()
    }
}
