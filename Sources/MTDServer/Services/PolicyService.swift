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

    let intelligence: ThreatIntelligence
    let refreshSeconds: Double
    private var cache: [UUID: (current: Current, loadedAt: Date)] = [:]

    init(intelligence: ThreatIntelligence, refreshSeconds: Double = 5) {
        self.intelligence = intelligence
        self.refreshSeconds = refreshSeconds
    }

    /// `fresh` skips the cache (admin reads must show what is stored, not what a replica cached).
    func current(for enterpriseID: UUID, on database: any Database, now: Date = Date(), fresh: Bool = false) async throws -> Current {
        if !fresh, let entry = cache[enterpriseID], now.timeIntervalSince(entry.loadedAt) < refreshSeconds {
            return entry.current
        }
        let latest = try await PolicyVersionModel.query(on: database)
            .filter(\.$enterpriseID == enterpriseID).sort(\.$version, .descending).first()
        let current: Current
        if let latest, let policy = try? JSONDecoder().decode(Policy.self, from: Data(latest.document.utf8)),
           let engine = try? DetectionEngine(policy: policy, intelligence: intelligence) {
            current = Current(version: latest.version, policy: policy, engine: engine)
        } else {
            current = Current(version: 0, policy: Policy(), engine: try DetectionEngine(policy: Policy(), intelligence: intelligence))
        }
        cache[enterpriseID] = (current, now)
        return current
    }

    /// Validates and stores a new version; returns it. Throws `DocumentError` naming the field.
    func save(_ policy: Policy, for enterpriseID: UUID, by admin: String, on database: any Database) async throws -> Current {
        let engine = try DetectionEngine(policy: policy, intelligence: intelligence)
        let version = try await database.transaction { tx in
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
        }
        let current = Current(version: version, policy: policy, engine: engine)
        cache[enterpriseID] = (current, Date())
        return current
    }
}
