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
        if let status = filters.status { query = query.filter(\.$status == status) }
        if let severity = filters.severity { query = query.filter(\.$severity == severity) }
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
        try await perform(.ignore, req)
    }

    static func unignore(_ req: Request) async throws -> ThreatSummary {
        try await perform(.unignore, req)
    }

    static func resolve(_ req: Request) async throws -> ThreatSummary {
        try await perform(.resolve, req)
    }

    static func perform(_ action: ThreatActions.Action, _ req: Request) async throws -> ThreatSummary {
        let principal = try req.admin
        let body = try req.content.decode(ThreatActionRequest.self)
        guard let id = req.parameters.get("id", as: UUID.self) else { throw APIError.notFound("threat") }
        let threat = try await req.application.mtd.threatActions.perform(action, threatID: id, reason: body.reason, principal: principal, on: req.db)
        return ThreatSummary(threat)
    }
}
