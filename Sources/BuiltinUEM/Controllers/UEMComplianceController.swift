import Fluent
import Foundation
import MTDCore
import Vapor

/// `/API/mdm/compliancepolicies`, a device's compliance, and the MTD threat level an MTD reports.
enum UEMComplianceController {
    struct PolicyRequest: Content {
        var Name: String
        var Platform: String?
        var AssignedSmartGroups: [Int]
        var MatchAll: Bool?
        var Rules: [ComplianceRule]
        var Actions: [ComplianceAction]
        var Active: Bool?
    }

    struct PolicyResponse: Content {
        var Id: WS1Id
        var Uuid: String
        var Name: String
        var Platform: String
        var AssignedSmartGroups: [Int]
        var MatchAll: Bool
        var Rules: [ComplianceRule]
        var Actions: [ComplianceAction]
        var Active: Bool

        init(_ policy: UEMCompliancePolicy) {
            let definition = EffectiveState.definition(of: policy)
            Id = WS1Id(Value: policy.id ?? 0)
            Uuid = policy.uuid.uuidString.lowercased()
            Name = policy.name
            Platform = policy.platform
            AssignedSmartGroups = EffectiveState.ids(policy.assignedSmartGroups)
            MatchAll = definition.MatchAll
            Rules = definition.Rules
            Actions = definition.Actions
            Active = policy.active
        }
    }

    static func create(_ req: Request) async throws -> Response {
        let principal = try req.uem
        try principal.require(.compliance, .edit)
        let body = try req.content.decode(PolicyRequest.self)
        let policy = UEMCompliancePolicy()
        policy.uuid = UUID()
        policy.organizationGroupID = principal.organizationGroupID
        // The change and the compliance it causes commit together (or not at all).
        try await req.db.uemChange { tx in
            try await apply(body, to: policy, on: tx)
            try await policy.create(on: tx)
            try await EffectiveState.reconcile(devices: nil, on: tx)
        }
        return try await PolicyResponse(policy).encodeResponse(status: .created, for: req)
    }

    static func update(_ req: Request) async throws -> PolicyResponse {
        try req.uem.require(.compliance, .edit)
        let policy = try await find(req)
        let body = try req.content.decode(PolicyRequest.self)
        try await req.db.uemChange { tx in
            try await apply(body, to: policy, on: tx)
            try await policy.update(on: tx)
            try await EffectiveState.reconcile(devices: nil, on: tx)
        }
        return PolicyResponse(policy)
    }

    static func delete(_ req: Request) async throws -> HTTPStatus {
        try req.uem.require(.compliance, .edit)
        let policy = try await find(req)
        try await req.db.uemChange { tx in
            try await policy.delete(on: tx)
            try await EffectiveState.reconcile(devices: nil, on: tx)
        }
        return .noContent
    }

    static func get(_ req: Request) async throws -> PolicyResponse {
        try req.uem.require(.compliance, .read)
        return PolicyResponse(try await find(req))
    }

    static func search(_ req: Request) async throws -> Response {
        try req.uem.require(.compliance, .read)
        var query = UEMCompliancePolicy.query(on: req.db)
        if let name = req.query[String.self, at: "name"], !name.isEmpty { query = query.filter(\.$name, .custom("LIKE"), "%\(name)%") }
        let window = try req.uemPage
        let total = try await query.copy().count()
        let policies = try await query.sort(\.$id).range(window.range).all()
        return try UEMPaging.response("CompliancePolicies", items: policies.map(PolicyResponse.init), total: total, page: window.page, size: window.size, for: req)
    }

    /// `GET /API/mdm/devices/{id}/compliance`: one entry per policy that applies to the device.
    static func device(_ req: Request) async throws -> Response {
        try req.uem.require(.devices, .read)
        let device = try await UEMDeviceController.find(req)
        let results = try await UEMDeviceCompliance.query(on: req.db).filter(\.$deviceID == (device.id ?? -1)).all()
        let policies = Dictionary(try await UEMCompliancePolicy.query(on: req.db).filter(\.$id ~~ results.map(\.policyID)).all().compactMap { policy in
            policy.id.map { ($0, policy) }
        }, uniquingKeysWith: { first, _ in first })
        struct Action: Content { var ActionType: String }
        struct Item: Content {
            var Id: Int
            var Uuid: String
            var CompliantStatus: Bool
            var CompliancePending: Bool
            var PolicyName: String
            var PolicyDetail: String
            var LastComplianceCheck: String
            var ActionTaken: [Action]
        }
        struct Body: Content {
            var DeviceCompliance: [Item]
            var OverallCompliantStatus: Bool
            var ComplianceStatus: String
            var Page: Int
            var PageSize: Int
            var Total: Int
        }
        let items = results.sorted { $0.policyID < $1.policyID }.compactMap { result -> Item? in
            guard let policy = policies[result.policyID] else { return nil }
            let definition = EffectiveState.definition(of: policy)
            let detail = definition.Rules.map { "\($0.Attribute) \($0.Operator)\($0.Value.map { " \($0)" } ?? "")" }.joined(separator: definition.MatchAll ? " and " : " or ")
            return Item(Id: result.policyID, Uuid: policy.uuid.uuidString.lowercased(), CompliantStatus: result.compliant, CompliancePending: false,
                        PolicyName: policy.name, PolicyDetail: detail, LastComplianceCheck: WS1Date.string(result.checkedAt),
                        ActionTaken: EffectiveState.strings(result.actionsTaken).map(Action.init))
        }
        return try await Body(DeviceCompliance: items, OverallCompliantStatus: device.complianceStatus != "NonCompliant", ComplianceStatus: device.complianceStatus,
                              Page: 0, PageSize: max(items.count, 1), Total: items.count).encodeResponse(for: req)
    }

    /// OpenMTD extension: `POST /API/mdm/devices/mtdthreatlevel` with
    /// `{"ThreatLevel":"High","BulkValues":{"Value":["12","13"]}}` records the threat level an MTD
    /// assessed (None, Low, Medium, High, or Unknown to clear it) and re-evaluates compliance.
    /// Needs Bulk Management Edit, which the MTD's API role has.
    static func reportThreatLevel(_ req: Request) async throws -> WS1BulkResponse {
        try req.uem.require(.bulkManagement, .edit)
        struct Body: Content {
            var ThreatLevel: String
            var BulkValues: WS1BulkInput.Values
        }
        let body = try req.content.decode(Body.self)
        let level: String?
        if body.ThreatLevel.caseInsensitiveCompare("Unknown") == .orderedSame {
            level = nil
        } else if let index = ComplianceRule.level(body.ThreatLevel) {
            level = ComplianceRule.threatLevels[index]
        } else {
            throw UEMError.invalid("ThreatLevel must be one of \(ComplianceRule.threatLevels.joined(separator: ", ")) or Unknown, not \(body.ThreatLevel).")
        }
        let (ids, faults) = try await UEMTagController.enrolledDevices(body.BulkValues.Value, on: req.db)
        if !ids.isEmpty {
            // The level and the compliance it causes commit together: a failure in between would
            // leave a retry finding the level already set and compliance never catching up.
            try await req.db.uemChange { tx in
                let devices = try await UEMDevice.query(on: tx).filter(\.$id ~~ ids).all()
                let changed = devices.filter { $0.mtdThreatLevel != level }.compactMap(\.id)
                if !changed.isEmpty {
                    try await UEMDevice.query(on: tx).filter(\.$id ~~ changed).set(\.$mtdThreatLevel, to: level).update()
                    try await EffectiveState.reconcile(devices: changed, on: tx)
                }
            }
        }
        return WS1BulkResponse(TotalItems: body.BulkValues.Value.count, AcceptedItems: ids.count, FailedItems: faults.count, Faults: .init(Fault: faults))
    }

    static func apply(_ body: PolicyRequest, to policy: UEMCompliancePolicy, on database: any Database) async throws {
        let name = body.Name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw UEMError.invalid("Name is required.") }
        let platform = body.Platform ?? "Any"
        guard ["Any", "Apple", "Android"].contains(platform) else { throw UEMError.invalid("Platform must be Any, Apple or Android, not \(platform).") }
        guard !body.Rules.isEmpty else { throw UEMError.invalid("A compliance policy needs at least one rule.") }
        for (index, rule) in body.Rules.enumerated() {
            if let problem = rule.problem() { throw UEMError.invalid("Rules[\(index)]: \(problem)") }
        }
        for (index, action) in body.Actions.enumerated() {
            if let problem = action.problem() { throw UEMError.invalid("Actions[\(index)]: \(problem)") }
            if let tag = action.TagId, try await UEMTag.find(tag, on: database) == nil { throw UEMError.invalid("Actions[\(index)]: tag \(tag) does not exist.") }
            for profile in action.ProfileIds ?? [] where try await UEMProfile.find(profile, on: database) == nil {
                throw UEMError.invalid("Actions[\(index)]: profile \(profile) does not exist.")
            }
        }
        for id in body.AssignedSmartGroups where try await UEMSmartGroup.find(id, on: database) == nil {
            throw UEMError.invalid("Smart group \(id) does not exist.")
        }
        if let other = try await UEMCompliancePolicy.query(on: database).filter(\.$name == name).first(), other.id != policy.id {
            throw UEMError(status: .badRequest, errorCode: 1002, message: "A compliance policy named \(name) already exists.")
        }
        policy.name = name
        policy.platform = platform
        policy.active = body.Active ?? true
        policy.assignedSmartGroups = String(decoding: try JSONEncoder().encode(body.AssignedSmartGroups), as: UTF8.self)
        let definition = ComplianceDefinition(MatchAll: body.MatchAll ?? false, Rules: body.Rules, Actions: body.Actions)
        policy.definition = String(decoding: try JSONEncoder().encode(definition), as: UTF8.self)
    }

    static func find(_ req: Request) async throws -> UEMCompliancePolicy {
        guard let id = req.parameters.get("id", as: Int.self), let policy = try await UEMCompliancePolicy.find(id, on: req.db) else {
            throw UEMError.notFound("Compliance policy", code: 5065)
        }
        return policy
    }
}
