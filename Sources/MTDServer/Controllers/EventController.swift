import FluentKit
import Foundation
import MTDCore
import MTDStore
import Vapor

/// `/api/v1/events` (all types) and `/api/v1/audit` (admin changes), resumable by id.
enum EventController {
    struct Query: Content {
        var after: Int?
        var limit: Int?
        var types: String?
    }

    static func events(_ req: Request) async throws -> EventPage {
        let principal = try req.admin
        let query = try req.query.decode(Query.self)
        var types: [EventType]?
        if let text = query.types, !text.isEmpty {
            types = try text.split(separator: ",").map { raw in
                guard let type = EventType(rawValue: raw.uppercased()) else {
                    throw APIError.badRequest("unknown event type \"\(raw)\"; use DEVICE, THREAT or AUDIT", field: "types")
                }
                return type
            }
        }
        return try await page(req, principal: principal, query: query, types: types)
    }

    static func audit(_ req: Request) async throws -> EventPage {
        let principal = try req.admin
        return try await page(req, principal: principal, query: try req.query.decode(Query.self), types: [.audit])
    }

    static func page(_ req: Request, principal: AdminPrincipal, query: Query, types: [EventType]?) async throws -> EventPage {
        let after = try BoundedNumber.check(query.after, parameter: "after", in: 0...Int.max, default: 0)
        let limit = try BoundedNumber.check(query.limit, parameter: "limit", in: 1...1000, default: 100)
        let events = try await EventLog.read(after: after, enterpriseID: principal.enterpriseID, types: types, limit: limit, on: req.db)
        return EventPage(events: events.map(EventSummary.init), last: events.last?.id ?? after)
    }
}
