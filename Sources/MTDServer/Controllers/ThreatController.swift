import FluentKit
import Foundation
import MTDCore
import MTDStore
import Vapor

/// `/api/v1/threats`: list and filter; ignore, un-ignore and resolve with a reason.
enum ThreatController {
    struct Filters: Content {
        var status: ThreatStatus?
        var severity: Severity?
        var classification: ThreatClassification?
        var type: ThreatType?
        var platform: Platform?
        var deviceId: UUID?
        var page: Int?
        var pageSize: Int?
    }

    /// The threats the request's filters select, newest first once sorted by the caller (the admin API and the console).
    static func filteredQuery(_ req: Request, enterpriseID: UUID) throws -> (QueryBuilder<ThreatModel>, Filters) {
        let filters = try req.query.decode(Filters.self)
        var query = ThreatModel.query(on: req.db).filter(\.$enterpriseID == enterpriseID)
        if let status = filters.status { query = query.filter(\.$status == status.rawValue) }
        if let severity = filters.severity { query = query.filter(\.$severity == severity.rawValue) }
        if let classification = filters.classification { query = query.filter(\.$classification == classification.rawValue) }
        if let type = filters.type { query = query.filter(\.$type == type.rawValue) }
        if let deviceID = filters.deviceId { query = query.filter(\.$device.$id == deviceID) }
        if let platform = filters.platform {
            query = query.join(DeviceModel.self, on: \ThreatModel.$device.$id == \DeviceModel.$id).filter(DeviceModel.self, \.$platform == platform.rawValue)
        }
        return (query, filters)
    }

    static func list(_ req: Request) async throws -> Page<ThreatSummary> {
        let principal = try req.admin
        let (query, filters) = try filteredQuery(req, enterpriseID: principal.enterpriseID)
        let window = try PageWindow(page: filters.page, size: filters.pageSize, sizeParameter: "pageSize", defaultSize: 50, maximumSize: 500)
        let total = try await query.copy().count()
        let threats = try await query.sort(\.$detectedAt, .descending).range(window.range).all()
        return Page(items: threats.map { ThreatSummary($0) }, page: window.page, pageSize: window.size, total: total)
    }

    static func ignore(_ req: Request) async throws -> ThreatSummary {
        try await change(req, to: .ignored, from: [.open], verb: "ignore")
    }

    static func unignore(_ req: Request) async throws -> ThreatSummary {
        try await change(req, to: .open, from: [.ignored], verb: "un-ignore")
    }

    /// Changes a threat's status with a reason: one THREAT event, one AUDIT event, and a DEVICE event
    /// if the device's security status changes with it.
    static func change(_ req: Request, to status: ThreatStatus, from allowed: [ThreatStatus], verb: String) async throws -> ThreatSummary {
        let principal = try req.admin
        let body = try req.content.decode(ThreatActionRequest.self)
        guard let id = req.parameters.get("id", as: UUID.self) else { throw APIError.notFound("threat") }
        return ThreatSummary(try await change(id, to: status, from: allowed, verb: verb, reason: body.reason, principal: principal, on: req))
    }

    static func resolve(_ req: Request) async throws -> ThreatSummary {
        try await change(req, to: .resolved, from: [.open, .ignored], verb: "resolve")
    }

    /// The change itself, shared by the admin API and the console.
    static func change(_ id: UUID, to status: ThreatStatus, from allowed: [ThreatStatus], verb: String, reason rawReason: String,
                       principal: AdminPrincipal, on req: Request) async throws -> ThreatModel {
        try principal.require(\.canActOnThreats, "\(verb) threats")
        let reason = rawReason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw APIError.badRequest("say why: reason must not be empty", field: "$.reason") }
        let enterpriseID = principal.enterpriseID
        let threat: ThreatModel = try await req.application.mtd.writes.run {
            try await req.db.transaction { tx in
                guard let found = try await ThreatModel.query(on: tx).filter(\.$id == id).filter(\.$enterpriseID == enterpriseID).first() else {
                    throw APIError.notFound("threat")
                }
                // Lock the device first, as check-ins do, so the two never wait on each other in opposite order.
                try await RowLocks.lockDevice(found.$device.id, on: tx)
                guard let threat = try await ThreatModel.find(id, on: tx) else { throw APIError.notFound("threat") }
                guard allowed.map(\.rawValue).contains(threat.status) else {
                    throw APIError.conflict("cannot \(verb) a threat that is \(threat.status.lowercased())")
                }
                let previous = threat.status
                threat.status = status.rawValue
                threat.statusReason = reason
                if status == .resolved { threat.resolvedAt = Date() }
                try await threat.update(on: tx)
                var events = [
                    ThreatLedger.event(threat, .updated, actor: principal.actor),
                    EventLog.NewEvent(
                        type: .audit, change: .updated, actor: principal.actor, target: .init(type: "THREAT", guid: id.uuidString.lowercased()),
                        payload: AuditPayload(type: "THREAT", changes: [.init(name: "status", from: previous, to: status.rawValue), .init(name: "reason", to: reason)])),
                ]
                let deviceID = threat.$device.id
                if let device = try await DeviceModel.find(deviceID, on: tx) {
                    let security = try await ThreatLedger.securityStatus(of: deviceID, on: tx)
                    device.bumpRevision()
                    let securityChanged = security.rawValue != device.securityStatus
                    device.securityStatus = security.rawValue
                    try await device.update(on: tx)
                    if securityChanged {
                        events.append(.init(
                            type: .device, change: .updated, actor: principal.actor, target: .init(type: "DEVICE", guid: deviceID.uuidString.lowercased()),
                            payload: DevicePayload(device, changed: ["security_status"])))
                    }
                }
                try await EventLog.append(events, enterpriseID: enterpriseID, on: tx, now: Date())
                return threat
            }
        }
        // The device's risk may have changed: the UEM hears of it now, not at the next poll.
        await req.application.mtd.uemSync.kick()
        return threat
    }
}
