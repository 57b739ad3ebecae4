import FluentKit
import Foundation
import MTDCore
import MTDStore
import SQLKit
import Vapor

/// `GET /api/v1/devices/{id}/dns-queries`: a device's own resolver queries, newest first, when the
/// enterprise's policy keeps a query log (`protectiveDNS.queryLogDays`). What a device looked up is
/// personal, so owners and analysts read it, not read-only admins.
enum DNSQueryLogController {
    struct Query: Content {
        var limit: Int?
        var before: String?
    }

    static func list(_ req: Request) async throws -> DNSQueryLogPage {
        let principal = try req.admin
        try principal.require(\.canActOnThreats, "read a device's DNS queries")
        let query = try req.query.decode(Query.self)
        let limit = try BoundedNumber.check(query.limit, parameter: "limit", in: 1...1000, default: 100)
        var before: Date?
        if let text = query.before, !text.isEmpty {
            guard let date = Timestamp.dateTime(text) else {
                throw APIError.badRequest("before must be a date and time such as 2026-12-07T10:00:00Z", field: "before")
            }
            before = date
        }
        let device = try await DeviceController.find(req, enterpriseID: principal.enterpriseID)
        guard let sql = req.db as? any SQLDatabase else { throw APIError(status: .internalServerError, code: "internal_error", message: "SQL database required") }
        let days = try await req.application.mtd.policies.current(for: principal.enterpriseID, on: req.db).engine.protectiveDNSRules.queryLogDays
        let entries = try await DNSQueryLog.list(deviceID: try device.requireID(), enterpriseID: principal.enterpriseID, before: before, limit: limit, on: sql)
        return DNSQueryLogPage(
            enabled: days != nil, retentionDays: days,
            items: entries.map { DNSQueryLogItem(askedAt: $0.askedAt, name: $0.name, type: $0.type, action: $0.action,
                                                 classification: $0.classification, indicator: $0.indicator) },
            next: entries.count == limit ? entries.last.map { Date.ISO8601FormatStyle(includingFractionalSeconds: true).format($0.askedAt) } : nil)
    }
}
