import FluentKit
import Foundation
import MTDCore
import MTDStore
import Vapor

/// `/api/v1/devices`: the fleet with filters, paging and CSV export, and one device in detail.
enum DeviceController {
    struct Filters: Content {
        var platform: Platform?
        var activation: ActivationStatus?
        var connection: ConnectionStatus?
        var security: SecurityStatus?
        var classification: ThreatClassification?
        var osVersion: String?
        var q: String?
        var page: Int?
        var pageSize: Int?
    }

    static func filteredQuery(_ req: Request, enterpriseID: UUID) async throws -> (QueryBuilder<DeviceModel>, Filters) {
        let filters = try req.query.decode(Filters.self)
        var query = DeviceModel.query(on: req.db).filter(\.$enterprise.$id == enterpriseID)
        if let platform = filters.platform { query = query.filter(\.$platform == platform.rawValue) }
        if let activation = filters.activation { query = query.filter(\.$activationStatus == activation) }
        if let connection = filters.connection { query = query.filter(\.$connectionStatus == connection) }
        if let security = filters.security { query = query.filter(\.$securityStatus == security) }
        if let version = filters.osVersion, !version.isEmpty {
            query = query.group(.or) { $0.filter(\.$osVersion == version).filter(\.$osVersion, .custom("LIKE"), "\(version).%") }
        }
        if let text = filters.q?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            let pattern = "%\(text.lowercased())%"
            query = query.group(.or) {
                $0.filter(\.$email, .custom("LIKE"), pattern).filter(\.$udid, .custom("LIKE"), pattern).filter(\.$externalID, .custom("LIKE"), pattern)
            }
        }
        if let classification = filters.classification {
            let ids = try await ThreatModel.query(on: req.db)
                .filter(\.$enterpriseID == enterpriseID).filter(\.$classification == classification.rawValue)
                .filter(\.$status == ThreatStatus.open).field(\.$device.$id).unique().all().map { $0.$device.id }
            query = query.filter(\.$id ~~ ids)
        }
        return (query, filters)
    }

    static func list(_ req: Request) async throws -> Page<DeviceSummary> {
        let principal = try req.admin
        let (query, filters) = try await filteredQuery(req, enterpriseID: principal.enterpriseID)
        let window = try PageWindow(page: filters.page, size: filters.pageSize, sizeParameter: "pageSize", defaultSize: 50, maximumSize: 500)
        let total = try await query.copy().count()
        let devices = try await query.sort(\.$lastCheckInHour, .descending).sort(\.$lastCheckInAt, .descending).sort(\.$id).range(window.range).all()
        return Page(items: devices.map(DeviceSummary.init), page: window.page, pageSize: window.size, total: total)
    }

    static func csv(_ req: Request) async throws -> Response {
        let principal = try req.admin
        let (query, _) = try await filteredQuery(req, enterpriseID: principal.enterpriseID)
        var text = "id,external_id,udid,email,platform,mode,os_version,model,activation_status,connection_status,security_status,last_check_in_at\n"
        let formatter = ISO8601DateFormatter()
        for device in try await query.sort(\.$email).all() {
            let fields: [String?] = [
                device.id?.uuidString.lowercased(), device.externalID, device.udid, device.email, device.platform, device.mode,
                device.osVersion, device.model, device.activationStatus.rawValue, device.connectionStatus.rawValue, device.securityStatus.rawValue,
                device.lastCheckInAt.map { formatter.string(from: $0) },
            ]
            text += fields.map { csvField($0 ?? "") }.joined(separator: ",") + "\n"
        }
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
        headers.add(name: .contentDisposition, value: "attachment; filename=\"devices.csv\"")
        return Response(status: .ok, headers: headers, body: .init(string: text))
    }

    /// Quotes fields with separators, and neutralizes spreadsheet formulas in user-controlled text.
    static func csvField(_ value: String) -> String {
        var value = value
        if let first = value.first, "=+-@".contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func detail(_ req: Request) async throws -> DeviceDetail {
        let principal = try req.admin
        return try await detail(of: try await find(req, enterpriseID: principal.enterpriseID), principal: principal, on: req.db)
    }

    static func detail(of device: DeviceModel, principal: AdminPrincipal, on db: any Database) async throws -> DeviceDetail {
        let deviceID = try device.requireID()
        let threats = try await ThreatModel.query(on: db).filter(\.$device.$id == deviceID).sort(\.$detectedAt, .descending).all()
        let threatIDs = threats.compactMap { $0.id?.uuidString.lowercased() }
        let history = threatIDs.isEmpty ? [] : try await EventModel.query(on: db)
            .filter(\.$enterpriseID == principal.enterpriseID).filter(\.$type == EventType.threat.rawValue)
            .filter(\.$targetID ~~ threatIDs).sort(\.$id).all()
        let historyByThreat = Dictionary(grouping: history.map(EventSummary.init), by: { $0.target.guid ?? "" })
        let apps = try await DeviceAppModel.query(on: db).filter(\.$device.$id == deviceID).sort(\.$appID).all()
        return DeviceDetail(
            device: DeviceSummary(device),
            threats: threats.map { ThreatSummary($0, history: historyByThreat[$0.id?.uuidString.lowercased() ?? ""] ?? []) },
            apps: apps.map { AppSummary(id: $0.appID, name: $0.name, version: $0.version, source: $0.source, signerSha1: $0.signerSha1, signerSha256: $0.signerSha256, sha256: $0.sha256) },
            lastFacts: device.lastFacts.map(JSONValue.init(jsonText:)))
    }

    static func deactivate(_ req: Request) async throws -> HTTPStatus {
        let principal = try req.admin
        try principal.require(\.canActOnThreats, "deactivate devices")
        let device = try await find(req, enterpriseID: principal.enterpriseID)
        try await req.application.mtd.activation.deactivate(deviceID: try device.requireID(), actor: principal.actor, on: req.db)
        return .noContent
    }

    static func find(_ req: Request, enterpriseID: UUID) async throws -> DeviceModel {
        guard let id = req.parameters.get("id", as: UUID.self),
              let device = try await DeviceModel.query(on: req.db).filter(\.$id == id).filter(\.$enterprise.$id == enterpriseID).first()
        else { throw APIError.notFound("device") }
        return device
    }
}
