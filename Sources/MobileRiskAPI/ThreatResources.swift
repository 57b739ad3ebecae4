import Fluent
import FluentKit
import FluentSQL
import Foundation
import MTDCore
import MTDStore
import SQLKit
import Vapor

/// A threat as the REST API returns it: `risk` and a single `classification` (stream events carry
/// `severity` and `classifications[]`).
struct MRAThreat: Content {
    struct Device: Content {
        var guid: String
    }

    var guid: String
    var oid: Int
    var enterprise_guid: String
    var device_guid: String
    var status: String
    var risk: String
    var classification: String
    var type: String
    var threat_type: String
    var subject: String
    var detected_at: String
    var resolved_at: String?
    var updated_time: String?
    var status_reason: String?
    var details: JSONValue
    var device: Device

    init(_ threat: ThreatModel, oid: Int) {
        guid = threat.id?.uuidString.lowercased() ?? ""
        self.oid = oid
        enterprise_guid = threat.enterpriseID.uuidString.lowercased()
        device_guid = threat.$device.id.uuidString.lowercased()
        status = threat.status.rawValue
        risk = threat.severity.rawValue
        classification = threat.classification
        type = threat.type
        threat_type = threat.type
        subject = threat.subject
        detected_at = RenderedEvent.timestamp(threat.detectedAt)
        resolved_at = threat.resolvedAt.map(RenderedEvent.timestamp)
        updated_time = threat.updatedAt.map(RenderedEvent.timestamp)
        status_reason = threat.statusReason
        details = JSONValue(jsonText: threat.evidence)
        device = Device(guid: device_guid)
    }
}

struct MRAThreatPage: Content {
    var count: Int
    var threats: [MRAThreat]
}

/// `GET /mra/api/v2/threats`, `/threat` and `/pcp-threats` (phishing and content protection:
/// the WEB_CONTENT threats).
struct ThreatResourceController: Sendable {
    let api: MobileRiskAPI

    @Sendable func list(_ req: Request) async throws -> MRAThreatPage {
        try await page(req, webContentOnly: false)
    }

    @Sendable func pcp(_ req: Request) async throws -> MRAThreatPage {
        try await page(req, webContentOnly: true)
    }

    func page(_ req: Request, webContentOnly: Bool) async throws -> MRAThreatPage {
        let list = try ListRequest(req, scope: .threats, table: ThreatModel.schema)
        let query = list.query
        var select = list.select
        if let text = query["device_guid"], !text.isEmpty {
            guard let device = UUID(uuidString: text) else { throw MRAError.invalidRequest("device_guid must be a device guid (a UUID)", parameter: "device_guid") }
            select = select.where("device_id", .equal, SQLBind(device))
        }
        if let status = try Filter.one(query, "status", allowed: ThreatStatus.allCases.map(\.rawValue)) {
            select = select.where("status", .equal, SQLBind(status))
        }
        if let risk = try Filter.one(query, "risk", allowed: Severity.allCases.map(\.rawValue)) {
            select = select.where("severity", .equal, SQLBind(risk))
        }
        if let text = query["classification"], !text.isEmpty {
            guard text.count <= 64, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw MRAError.invalidRequest("classification must be a classification name such as SPYWARE", parameter: "classification")
            }
            select = select.where("classification", .equal, SQLBind(text.uppercased()))
        }
        if webContentOnly {
            select = select.where("type", .equal, SQLBind(ThreatType.webContent.rawValue))
        } else if let type = try Filter.one(query, "threat_type", allowed: ThreatType.allCases.map(\.rawValue)) {
            select = select.where("type", .equal, SQLBind(type))
        }
        if let platform = try Filter.one(query, "platform", allowed: ["ANDROID", "IOS"]) {
            select = select.where(SQLBinaryExpression(
                SQLColumn("device_id"), .in,
                SQLGroupExpression(SQLQueryString("SELECT id FROM devices WHERE platform = \(bind: platform)"))))
        }
        if let text = query["timeframe"], !text.isEmpty {
            guard let seconds = Self.timeframe(text) else {
                throw MRAError.invalidRequest("timeframe must be LAST_24_HOURS or LAST_<n>_DAYS with n from 1 to 365", parameter: "timeframe")
            }
            select = select.where("detected_at", .greaterThanOrEqual, SQLBind(api.clock().addingTimeInterval(-seconds)))
        }
        let rows = try await select.orderBy("listing_id").limit(list.paging.limit).all()
        let threats = try rows.map { row in
            MRAThreat(try row.decode(fluentModel: ThreatModel.self), oid: try row.decode(column: "listing_id", as: Int.self))
        }
        return MRAThreatPage(count: threats.count, threats: threats)
    }

    @Sendable func one(_ req: Request) async throws -> MRAThreat {
        let principal = try req.mraPrincipal
        try principal.require(.threats)
        guard let text = req.query[String.self, at: "guid"], !text.isEmpty else {
            throw MRAError.invalidRequest("guid is required", parameter: "guid")
        }
        guard let id = UUID(uuidString: text) else { throw MRAError.invalidRequest("guid must be a threat guid (a UUID)", parameter: "guid") }
        guard let sql = req.db as? any SQLDatabase else { throw MRAError.notFound("threat") }
        guard let row = try await sql.select().column("*").from(ThreatModel.schema)
            .where("enterprise_id", .equal, SQLBind(principal.enterpriseID)).where("id", .equal, SQLBind(id)).first()
        else { throw MRAError.notFound("no such threat") }
        return MRAThreat(try row.decode(fluentModel: ThreatModel.self), oid: try row.decode(column: "listing_id", as: Int.self))
    }

    /// `LAST_24_HOURS`, `LAST_<n>_DAYS` (1…365) in seconds.
    static func timeframe(_ text: String) -> TimeInterval? {
        let upper = text.uppercased()
        if upper == "LAST_24_HOURS" { return 86_400 }
        guard upper.hasPrefix("LAST_"), upper.hasSuffix("_DAYS") else { return nil }
        let number = upper.dropFirst(5).dropLast(5)
        guard number.count <= 3, let days = Int(number), (1...365).contains(days) else { return nil }
        return Double(days) * 86_400
    }
}

/// `GET /mra/api/v2/events`: the log for pollers, `{"events": […], "last_oid": …}`; pass `last_oid`
/// back as `oid` for the next page.
struct EventPollController: Sendable {
    let api: MobileRiskAPI

    @Sendable func poll(_ req: Request) async throws -> Response {
        let principal = try req.mraPrincipal
        try principal.require(.events)
        let query = try req.query.decode([String: String].self)
        let now = api.clock()
        let parameters = try StreamParameters(query: query, lastEventID: nil, now: now)
        var limit = 100
        if let text = query["limit"], !text.isEmpty {
            guard text.count <= 9, let value = Int(text), (1...1000).contains(value) else {
                throw MRAError.invalidRequest("limit must be a whole number from 1 to 1000", parameter: "limit")
            }
            limit = value
        }
        var cursor = 0
        switch EventStreamID.decode(query["oid"]) {
        case .position(let position): cursor = position
        case .unknown: throw MRAError.invalidRequest("oid must be the last_oid of the previous page", parameter: "oid")
        case .none:
            if let start = parameters.startTime { cursor = try await EventLog.lastPosition(before: start, on: req.db) }
        }
        let (events, scanned) = try await EventReplay.read(after: cursor, enterpriseID: principal.enterpriseID, types: parameters.types, limit: limit, on: req.db)
        // Built as text: the events are JSON already, rendered once.
        let body = "{\"events\":[" + events.map(\.json).joined(separator: ",") + "],\"last_oid\":\"" + EventStreamID.encode(scanned) + "\"}"
        var headers = HTTPHeaders()
        headers.contentType = .json
        return Response(status: .ok, headers: headers, body: .init(string: body))
    }
}
