import FluentKit
import Foundation
import MTDStore
import Vapor

/// Health, metrics and the OpenAPI document.
enum OperationsController {
    struct Health: Content {
        var status: String
        var database: String
        /// Present when a stored policy cannot be used: what is wrong and which version is served.
        var policy: [PolicyHealth]?
    }

    struct PolicyHealth: Content {
        var enterpriseId: String
        var rejectedVersion: Int
        var servingVersion: Int
        var error: String
    }

    /// 200 `ok`; 200 `degraded` when a policy is rejected (the server still protects with the last
    /// good one, so a load balancer must keep it); 503 when the database cannot be reached.
    static func health(_ req: Request) async throws -> Response {
        let services = req.application.mtd
        do {
            _ = try await MTDStoreProbe.ping(req.db)
            for enterprise in try await EnterpriseModel.query(on: req.db).all() {
                _ = try await services.policies.current(for: try enterprise.requireID(), on: req.db)
            }
        } catch {
            return try await Health(status: "degraded", database: "unreachable").encodeResponse(status: .serviceUnavailable, for: req)
        }
        let problems = await services.policies.allProblems().map { enterpriseID, problem in
            PolicyHealth(enterpriseId: enterpriseID.uuidString.lowercased(), rejectedVersion: problem.version,
                         servingVersion: problem.servingVersion, error: problem.message)
        }
        return try await Health(status: problems.isEmpty ? "ok" : "degraded", database: "ok", policy: problems.isEmpty ? nil : problems)
            .encodeResponse(for: req)
    }

    static func metrics(_ req: Request) async throws -> Response {
        let metrics = req.application.mtd.metrics
        // Database-derived figures are read at scrape time rather than tracked on every change.
        metrics.eventLogHead.set(Double(try await EventLog.head(on: req.db)))
        metrics.openThreats.set(Double(try await ThreatModel.query(on: req.db).filter(\.$status == .open).count()))
        metrics.devices.set(Double(try await DeviceModel.query(on: req.db).count()))
        let sync = await req.application.mtd.uemSync.status()
        metrics.uemConnected.set(Double(sync.connected ? 1 : 0))
        metrics.uemPendingChanges.set(Double(sync.pendingChanges))
        metrics.uemLastSuccess.set(Double(sync.lastSuccess?.timeIntervalSince1970 ?? 0))
        metrics.uemErrors.set(Double(sync.errors))
        metrics.uemCalls.set(Double(sync.callsMade))
        metrics.recordConsumers(try await req.application.mtd.consumers.status(on: req.db))
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "text", subType: "plain", parameters: ["version": "0.0.4"])
        return Response(status: .ok, headers: headers, body: .init(string: metrics.exposition()))
    }

    static func openAPI(_ req: Request) async throws -> Response {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else {
            throw APIError.notFound("OpenAPI document")
        }
        var headers = HTTPHeaders()
        headers.contentType = .json
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }
}
