import Fluent
import FluentKit
import FluentSQL
import Foundation
import MTDCore
import MTDIntel
import MTDStore
import SQLKit
import Vapor

/// A device as `GET /mra/api/v2/devices` returns it: statuses at the top level (not nested as in
/// stream events), times in ISO 8601 with an offset, `platform` and `activation_status` never null.
struct MRADevice: Content {
    struct Software: Content {
        var os_version: String?
        var security_patch_level: String?
        var latest_os_version: String?
        var latest_security_patch_level: String?
    }

    struct Hardware: Content {
        var manufacturer: String?
        var model: String?
    }

    struct Client: Content {
        var package_name: String
        var package_version: String?
    }

    struct Details: Content {
        var external_id: String?
        var mdm_connector_id: String?
        var mdm_connector_uuid: String?
    }

    var guid: String
    var oid: Int
    var enterprise_guid: String
    var customer_device_id: String?
    var email: String?
    var platform: String
    var mdm_type: String?
    var profile_type: String
    var security_status: String
    var protection_status: String
    var activation_status: String
    var checkin_time: String?
    var activated_at: String?
    var updated_time: String?
    var software: Software
    var hardware: Hardware
    var client: Client
    var details: Details

    /// `latest` is what the OS catalog says about the device's OS on the day (iOS: the newest
    /// release of its major; Android has no machine-readable patch index, so it stays null).
    init(_ device: DeviceModel, oid: Int, latest: OSAssessment? = nil) {
        guid = device.id?.uuidString.lowercased() ?? ""
        self.oid = oid
        enterprise_guid = device.$enterprise.id.uuidString.lowercased()
        customer_device_id = device.externalID ?? device.udid
        email = device.email
        platform = device.platform
        mdm_type = device.mdm
        profile_type = device.mode == "STANDALONE" ? "PERSONAL" : "WORK"
        security_status = device.securityStatus.rawValue
        protection_status = DevicePayload.protectionStatus(device.activationStatus, device.connectionStatus)
        activation_status = device.activationStatus.rawValue
        checkin_time = device.lastCheckInAt.map(RenderedEvent.timestamp)
        activated_at = device.activatedAt.map(RenderedEvent.timestamp)
        updated_time = (device.updatedAt ?? device.createdAt).map(RenderedEvent.timestamp)
        software = Software(
            os_version: device.osVersion, security_patch_level: device.securityPatchLevel, latest_os_version: latest?.newestInCycle)
        hardware = Hardware(manufacturer: device.manufacturer, model: device.model)
        client = Client(package_name: "org.openmtd.agent", package_version: device.agentVersion)
        details = Details(
            external_id: device.externalID, mdm_connector_id: device.uemDeviceID.map(String.init),
            mdm_connector_uuid: device.uemConnection)
    }
}

extension MobileRiskAPI {
    /// A device row as the API shows it, with what the OS catalog knows of its OS today.
    func device(_ row: any SQLRow) throws -> MRADevice {
        let device = try row.decode(fluentModel: DeviceModel.self)
        let latest = device.osVersion.flatMap { version in
            Platform(rawValue: device.platform).flatMap { platform in
                intelligence().os.assess(platform: platform, version: version, model: device.model, asOfDay: Timestamp.day(of: clock()))
            }
        }
        return MRADevice(device, oid: try row.decode(column: "listing_id", as: Int.self), latest: latest)
    }
}

struct MRADevicePage: Content {
    var count: Int
    var devices: [MRADevice]
}

/// `GET /mra/api/v2/devices` and `GET /mra/api/v2/device`.
struct DeviceResourceController: Sendable {
    let api: MobileRiskAPI

    @Sendable func list(_ req: Request) async throws -> MRADevicePage {
        let list = try ListRequest(req, scope: .devices, table: DeviceModel.schema)
        let query = list.query
        var select = list.select
        if let platform = try Filter.one(query, "platform", allowed: ["ANDROID", "IOS"]) {
            select = select.where("platform", .equal, SQLBind(platform))
        }
        if let security = try Filter.one(query, "security_status", allowed: SecurityStatus.allCases.map(\.rawValue)) {
            select = select.where("security_status", .equal, SQLBind(security))
        }
        let activationName = query["activation_status"].flatMap { $0.isEmpty ? nil : "activation_status" } ?? "state"
        if let activation = try Filter.one(query, activationName, allowed: ActivationStatus.allCases.map(\.rawValue)) {
            select = select.where("activation_status", .equal, SQLBind(activation))
        }
        if let protection = try Filter.one(query, "protection_status", allowed: ["PROTECTED", "DISCONNECTED", "UNPROTECTED"]) {
            switch protection {
            case "PROTECTED":
                select = select.where("activation_status", .equal, SQLBind(ActivationStatus.activated.rawValue))
                    .where("connection_status", .equal, SQLBind(ConnectionStatus.connected.rawValue))
            case "DISCONNECTED":
                select = select.where("activation_status", .equal, SQLBind(ActivationStatus.activated.rawValue))
                    .where("connection_status", .notEqual, SQLBind(ConnectionStatus.connected.rawValue))
            default:
                select = select.where("activation_status", .notEqual, SQLBind(ActivationStatus.activated.rawValue))
            }
        }
        if let email = query["email"], !email.isEmpty {
            guard email.count <= 320 else { throw MRAError.invalidRequest("email is too long", parameter: "email") }
            select = select.where("email", .equal, SQLBind(email))
        }
        if let text = query["updated_since"], !text.isEmpty {
            guard let since = StreamParameters.parseTime(text) else {
                throw MRAError.invalidRequest("updated_since must be an ISO 8601 time", parameter: "updated_since")
            }
            select = select.where("updated_at", .greaterThanOrEqual, SQLBind(since))
        }
        let rows = try await select.orderBy("listing_id").limit(list.paging.limit).all()
        let devices = try rows.map { row in
            try api.device(row)
        }
        return MRADevicePage(count: devices.count, devices: devices)
    }

    @Sendable func one(_ req: Request) async throws -> MRADevice {
        let principal = try req.mraPrincipal
        try principal.require(.devices)
        let query = try req.query.decode([String: String].self)
        guard let sql = req.db as? any SQLDatabase else { throw MRAError.notFound("device") }
        var select = sql.select().column("*").from(DeviceModel.schema).where("enterprise_id", .equal, SQLBind(principal.enterpriseID))
        if let guid = query["guid"], !guid.isEmpty {
            guard let id = UUID(uuidString: guid) else { throw MRAError.invalidRequest("guid must be a device guid (a UUID)", parameter: "guid") }
            select = select.where("id", .equal, SQLBind(id))
        } else if let customer = query["customer_device_id"], !customer.isEmpty {
            select = select.where(SQLGroupExpression(SQLBinaryExpression(
                SQLBinaryExpression(SQLColumn("external_id"), .equal, SQLBind(customer)), .or,
                SQLBinaryExpression(SQLColumn("udid"), .equal, SQLBind(customer)))))
        } else if let uuid = query["mdm_connector_uuid"], !uuid.isEmpty {
            select = select.where("uem_connection", .equal, SQLBind(uuid))
        } else if let id = query["mdm_connector_id"] ?? query["mdm_device_id"], !id.isEmpty {
            guard let number = Int(id.prefix(18)), id.count <= 18 else {
                throw MRAError.invalidRequest("mdm_connector_id must be the UEM's numeric device id", parameter: "mdm_connector_id")
            }
            select = select.where("uem_device_id", .equal, SQLBind(number))
        } else {
            throw MRAError.invalidRequest("name the device with guid, customer_device_id, mdm_connector_id or mdm_connector_uuid", parameter: "guid")
        }
        guard let row = try await select.limit(1).first() else { throw MRAError.notFound("no such device") }
        return try api.device(row)
    }
}

/// What every list starts with: the caller, who must have `scope`; the query; the page; and the
/// select of the enterprise's rows after the cursor.
struct ListRequest {
    var principal: MRAPrincipal
    var query: [String: String]
    var paging: Paging
    var select: SQLSelectBuilder

    init(_ req: Request, scope: MRAScope, table: String) throws {
        principal = try req.mraPrincipal
        try principal.require(scope)
        query = try req.query.decode([String: String].self)
        paging = try Paging(query)
        guard let sql = req.db as? any SQLDatabase else { throw MRAError.notFound(table) }
        select = sql.select().column("*").from(table)
            .where("enterprise_id", .equal, SQLBind(principal.enterpriseID))
            .where("listing_id", .greaterThan, SQLBind(paging.after))
    }
}

/// `limit` (1…1000, default 100) and `oid`, the exclusive cursor (the last item's oid; absent or
/// empty for the first page).
struct Paging {
    var limit: Int
    var after: Int

    init(_ query: [String: String]) throws {
        limit = 100
        if let text = query["limit"], !text.isEmpty {
            guard text.count <= 9, let value = Int(text), (1...1000).contains(value) else {
                throw MRAError.invalidRequest("limit must be a whole number from 1 to 1000", parameter: "limit")
            }
            limit = value
        }
        after = 0
        if let text = query["oid"], !text.isEmpty {
            guard text.count <= 18, let value = Int(text), value >= 0 else {
                throw MRAError.invalidRequest("oid must be the oid of the last item of the previous page", parameter: "oid")
            }
            after = value
        }
    }
}

/// A filter with a fixed set of values; absent or empty is no filter.
enum Filter {
    static func one(_ query: [String: String], _ name: String, allowed: [String]) throws -> String? {
        guard let raw = query[name], !raw.isEmpty else { return nil }
        let value = raw.uppercased()
        guard allowed.contains(value) else {
            throw MRAError.invalidRequest("\(name) must be one of \(allowed.joined(separator: ", "))", parameter: name)
        }
        return value
    }
}
