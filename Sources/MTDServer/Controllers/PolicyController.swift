import FluentKit
import Foundation
import MTDCore
import MTDDetection
import MTDStore
import Vapor

/// `/api/v1/policy`: the policy in force, its history, and changes that re-evaluate the fleet.
enum PolicyController {
    static func get(_ req: Request) async throws -> PolicyResponse {
        let principal = try req.admin
        let current = try await req.application.mtd.policies.current(for: principal.enterpriseID, on: req.db, fresh: true)
        return PolicyResponse(version: current.version, policy: current.policy)
    }

    static func put(_ req: Request) async throws -> PolicyResponse {
        let principal = try req.admin
        try principal.require(\.canEditPolicy, "change the policy")
        guard let buffer = req.body.data else { throw APIError.badRequest("empty body; send a policy document", field: "$") }
        let isYAML = req.headers.contentType.map { $0.subType.contains("yaml") } ?? false
        let policy = try PolicyDocument.decode(Data(buffer: buffer), format: isYAML ? .yaml : .json)
        let saved = try await save(policy, principal: principal, on: req)
        return PolicyResponse(version: saved.version, policy: saved.policy)
    }

    /// Saves a policy (the admin API and the console). Its CLASSIFICATION_POLICY event makes
    /// PolicyReevaluationConsumer evaluate the fleet again; the response does not wait for that.
    static func save(_ policy: Policy, principal: AdminPrincipal, on req: Request) async throws -> PolicyService.Current {
        try principal.require(\.canEditPolicy, "change the policy")
        try await requireNetworksUnclaimed(policy.protectiveDNS.networks, enterpriseID: principal.enterpriseID, on: req)
        return try await req.application.mtd.policies.save(policy, for: principal.enterpriseID, by: principal.email, on: req.db)
    }

    static func versions(_ req: Request) async throws -> [PolicyVersionSummary] {
        let principal = try req.admin
        return try await PolicyVersionModel.query(on: req.db).filter(\.$enterpriseID == principal.enterpriseID)
            .sort(\.$version, .descending).all().map { PolicyVersionSummary(version: $0.version, createdBy: $0.createdBy, createdAt: $0.createdAt) }
    }

    /// Two enterprises cannot claim the same resolver addresses: the resolver could not tell whose
    /// a query is.
    static func requireNetworksUnclaimed(_ networks: [IPNetwork], enterpriseID: UUID, on req: Request) async throws {
        guard !networks.isEmpty else { return }
        for enterprise in try await EnterpriseModel.query(on: req.db).filter(\.$id != enterpriseID).all() {
            guard let other = enterprise.id else { continue }
            let claimed = try await req.application.mtd.policies.current(for: other, on: req.db).engine.protectiveDNSRules.networks
            if let (mine, theirs) = ResolverNetworks.overlap(networks, with: claimed) {
                throw APIError(status: .conflict, code: "network_claimed",
                               message: "\(mine) overlaps \(theirs), a network another enterprise's policy lists; each address can count for one enterprise only",
                               field: "$.protectiveDNS.networks")
            }
        }
    }
}
