import MTDServices
import FluentKit
import Foundation
import MTDCore
import MTDDetection
import MTDIntel
import MTDStore

/// The policy in force per enterprise, compiled into a detection engine and cached. Versions are
/// re-read at most every `refreshSeconds`, so replicas converge on a new policy quickly.
actor PolicyService {
    struct Current: Sendable {
        var version: Int
        var policy: Policy
        var engine: DetectionEngine
    }

    /// The newest stored version cannot be used (it does not decode or compile): the server keeps
    /// serving `servingVersion`, `/healthz` says degraded and the console shows a banner.
    struct Problem: Sendable, Equatable {
        var version: Int
        var message: String
        var servingVersion: Int
    }

    let intelligence: ThreatIntelligence
    let refreshSeconds: Double
    let writes: WriteGate
    private var cache: [UUID: (current: Current, loadedAt: Date)] = [:]
    private var problems: [UUID: Problem] = [:]
    /// Broken versions already written to the audit log by this process.
    private var audited: Set<String> = []

    init(intelligence: ThreatIntelligence, writes: WriteGate, refreshSeconds: Double = 5) {
        self.intelligence = intelligence
        self.writes = writes
        self.refreshSeconds = refreshSeconds
    }

    /// The problem with an enterprise's newest policy version, if it could not be used.
    func problem(for enterpriseID: UUID) -> Problem? { problems[enterpriseID] }

    /// Every enterprise whose newest policy version could not be used, as last loaded here.
    func allProblems() -> [UUID: Problem] { problems }

    /// `fresh` skips the cache (admin reads must show what is stored, not what a replica cached).
    func current(for enterpriseID: UUID, on database: any Database, now: Date = Date(), fresh: Bool = false) async throws -> Current {
        if !fresh, let entry = cache[enterpriseID], now.timeIntervalSince(entry.loadedAt) < refreshSeconds {
            return entry.current
        }
        let latest = try await PolicyVersionModel.query(on: database)
            .filter(\.$enterpriseID == enterpriseID).sort(\.$version, .descending).first()
        guard let latest else {
            let current = Current(version: 0, policy: Policy(), engine: try DetectionEngine(policy: Policy(), intelligence: intelligence))
            problems[enterpriseID] = nil
            cache[enterpriseID] = (current, now)
            return current
        }
        if let cached = cache[enterpriseID]?.current, cached.version == latest.version {
            cache[enterpriseID] = (cached, now)
            return cached
        }
        do {
            let current = try compile(latest)
            problems[enterpriseID] = nil
            cache[enterpriseID] = (current, now)
            return current
        } catch {
            // Never fall back to the default policy: that would quietly change every severity.
            // Keep the last good version (cached here, or the newest older one that compiles).
            let message = "\(error)"
            let fallback = try await lastGood(for: enterpriseID, below: latest.version, on: database)
            let problem = Problem(version: latest.version, message: message, servingVersion: fallback.version)
            problems[enterpriseID] = problem
            cache[enterpriseID] = (fallback, now)
            try await audit(problem, enterpriseID: enterpriseID, on: database, now: now)
            return fallback
        }
    }

    private func compile(_ model: PolicyVersionModel) throws -> Current {
        let policy: Policy
        do {
            policy = try JSONDecoder().decode(Policy.self, from: Data(model.document.utf8))
        } catch {
            throw DocumentError(decoding: error)
        }
        return Current(version: model.version, policy: policy, engine: try DetectionEngine(policy: policy, intelligence: intelligence))
    }

    /// The newest version below `version` that compiles; the cached one when it is such a version.
    private func lastGood(for enterpriseID: UUID, below version: Int, on database: any Database) async throws -> Current {
        if let cached = cache[enterpriseID]?.current, cached.version < version { return cached }
        let older = try await PolicyVersionModel.query(on: database)
            .filter(\.$enterpriseID == enterpriseID).filter(\.$version < version).sort(\.$version, .descending).all()
        for model in older {
            if let current = try? compile(model) { return current }
        }
        return Current(version: 0, policy: Policy(), engine: try DetectionEngine(policy: Policy(), intelligence: intelligence))
    }

    /// One AUDIT event per broken version per process, so the audit log and the SIEM see it.
    private func audit(_ problem: Problem, enterpriseID: UUID, on database: any Database, now: Date) async throws {
        let key = "\(enterpriseID)/\(problem.version)"
        guard !audited.contains(key) else { return }
        audited.insert(key)
        try await writes.run {
            try await database.transaction { tx in
                try await EventLog.append([
                    EventLog.NewEvent(
                        type: .audit, change: .updated, actor: EventParty(type: "SYSTEM", guid: "policy-loader"),
                        target: EventParty(type: "ENTERPRISE", guid: enterpriseID.uuidString.lowercased()),
                        payload: AuditPayload(type: "CLASSIFICATION_POLICY_REJECTED", changes: [
                            .init(name: "version", from: "\(problem.version)", to: "\(problem.servingVersion)"),
                            .init(name: "error", to: String(problem.message.prefix(500))),
                        ]))
                ], enterpriseID: enterpriseID, on: tx, now: now)
            }
        }
    }

    /// Validates and stores a new version; returns it. Throws `DocumentError` naming the field.
    func save(_ policy: Policy, for enterpriseID: UUID, by admin: String, on database: any Database) async throws -> Current {
        let engine = try DetectionEngine(policy: policy, intelligence: intelligence)
        let version = try await writes.run { try await database.transaction { tx in
            // Concurrent saves number their versions one after the other instead of colliding on
            // the (enterprise, version) unique index.
            try await RowLocks.lockEnterprise(enterpriseID, on: tx)
            let latest = try await PolicyVersionModel.query(on: tx)
                .filter(\.$enterpriseID == enterpriseID).sort(\.$version, .descending).first()
            let model = PolicyVersionModel()
            model.enterpriseID = enterpriseID
            model.version = (latest?.version ?? 0) + 1
            model.document = String(decoding: PolicyDocument.encode(policy), as: UTF8.self)
            model.createdBy = admin
            try await model.create(on: tx)
            try await EventLog.append([
                EventLog.NewEvent(
                    type: .audit, change: .updated, actor: EventParty(type: "ADMIN", guid: admin),
                    target: EventParty(type: "ENTERPRISE", guid: enterpriseID.uuidString.lowercased()),
                    payload: AuditPayload(type: "CLASSIFICATION_POLICY", changes: [.init(name: "version", from: latest.map { "\($0.version)" }, to: "\(model.version)")]))
            ], enterpriseID: enterpriseID, on: tx, now: Date())
            return model.version
        } }
        let current = Current(version: version, policy: policy, engine: engine)
        problems[enterpriseID] = nil
        cache[enterpriseID] = (current, Date())
        return current
    }
}
