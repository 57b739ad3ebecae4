import Fluent
import Foundation
import MTDCore
import Vapor

/// `/API/mdm/appconfigurations` (OpenMTD's REST form of Hub custom settings and managed app config)
/// and `/API/mdm/devices/{id}/appconfigurations`: what a device's apps receive, lookups resolved.
enum UEMAppConfigurationController {
    static let hubCustomSettings = "HubCustomSettings"
    static let managedAppConfig = "ManagedAppConfig"

    struct Request: Content {
        var Name: String
        var Kind: String
        var Application: String?
        var Platform: String?
        var AssignedSmartGroups: [Int]
        /// Hub custom settings: any JSON object. Managed app config: an object of string, number or boolean values.
        var Settings: JSONValue
    }

    struct Item: Content {
        var Id: WS1Id
        var Uuid: String
        var Name: String
        var Kind: String
        var Application: String?
        var Platform: String
        var AssignedSmartGroups: [Int]
        var Settings: JSONValue

        init(_ configuration: UEMAppConfiguration) {
            Id = WS1Id(Value: configuration.id ?? 0)
            Uuid = configuration.uuid.uuidString.lowercased()
            Name = configuration.name
            Kind = configuration.kind
            Application = configuration.application
            Platform = configuration.platform
            AssignedSmartGroups = EffectiveState.ids(configuration.assignedSmartGroups)
            Settings = JSONValue(jsonText: configuration.settings)
        }
    }

    static func create(_ req: Vapor.Request) async throws -> Response {
        let principal = try req.uem
        try principal.requireAny([.apps, .profiles], .edit)
        let body = try req.content.decode(Request.self)
        try principal.require(body.Kind == managedAppConfig ? .apps : .profiles, .edit)
        let name = body.Name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw UEMError.invalid("Name is required.") }
        guard [hubCustomSettings, managedAppConfig].contains(body.Kind) else {
            throw UEMError.invalid("Kind must be \(hubCustomSettings) or \(managedAppConfig), not \(body.Kind).")
        }
        let platform = body.Platform ?? "Any"
        guard ["Any", "Apple", "Android"].contains(platform) else { throw UEMError.invalid("Platform must be Any, Apple or Android, not \(platform).") }
        guard case .object(let settings) = body.Settings else { throw UEMError.invalid("Settings must be a JSON object.") }
        if body.Kind == managedAppConfig {
            guard let application = body.Application, !application.isEmpty else {
                throw UEMError.invalid("A managed app config needs the Application (bundle id or package name) it configures.")
            }
            let nested = settings.keys.sorted().first { key in
                switch settings[key] {
                case .string?, .number?, .bool?: false
                default: true
                }
            }
            if let key = nested {
                throw UEMError.invalid("Settings.\(key): managed app config values are strings, numbers or booleans; \(application) cannot read nested values.")
            }
        }
        let text = String(decoding: try JSONEncoder().encode(body.Settings), as: UTF8.self)
        if let unknown = LookupValues.unknown(in: text) {
            throw UEMError.invalid("Unknown lookup value {\(unknown.name)}" + (unknown.suggestion.map { "; did you mean {\($0)}?" } ?? "; known: " + LookupValues.names.map { "{\($0)}" }.joined(separator: ", ")))
        }
        for id in body.AssignedSmartGroups where try await UEMSmartGroup.find(id, on: req.db) == nil {
            throw UEMError.invalid("Smart group \(id) does not exist.")
        }
        if try await UEMAppConfiguration.query(on: req.db).filter(\.$name == name).first() != nil {
            throw UEMError(status: .badRequest, errorCode: 1002, message: "An app configuration named \(name) already exists.")
        }
        let configuration = UEMAppConfiguration()
        configuration.uuid = UUID()
        configuration.name = name
        configuration.kind = body.Kind
        configuration.application = body.Kind == managedAppConfig ? body.Application : nil
        configuration.platform = platform
        configuration.organizationGroupID = principal.organizationGroupID
        configuration.assignedSmartGroups = String(decoding: try JSONEncoder().encode(body.AssignedSmartGroups), as: UTF8.self)
        configuration.settings = text
        try await configuration.create(on: req.db)
        return try await Item(configuration).encodeResponse(status: .created, for: req)
    }

    static func search(_ req: Vapor.Request) async throws -> Response {
        try req.uem.require(.profiles, .read)
        let window = try req.uemPage
        let query = UEMAppConfiguration.query(on: req.db)
        let total = try await query.copy().count()
        let items = try await query.sort(\.$id).range(window.range).all()
        return try UEMPaging.response("AppConfigurations", items: items.map(Item.init), total: total, page: window.page, size: window.size, for: req)
    }

    static func delete(_ req: Vapor.Request) async throws -> HTTPStatus {
        try req.uem.requireAny([.apps, .profiles], .edit)
        guard let id = req.parameters.get("id", as: Int.self), let configuration = try await UEMAppConfiguration.find(id, on: req.db) else {
            throw UEMError.notFound("App configuration", code: 5066)
        }
        try req.uem.require(configuration.kind == managedAppConfig ? .apps : .profiles, .edit)
        try await configuration.delete(on: req.db)
        return .noContent
    }

    /// Everything assigned to the device through its smart groups: Hub custom settings merged
    /// (later configurations win per top-level key), and one entry per managed app config.
    static func device(_ req: Vapor.Request) async throws -> Response {
        try req.uem.require(.devices, .read)
        let device = try await UEMDeviceController.find(req)
        let deviceID = try device.requireID()
        let tags = try await EffectiveState.tags(of: [deviceID], on: req.db)[deviceID] ?? []
        let tree = try await OrganizationTree.load(on: req.db)
        let groups = try await UEMSmartGroup.query(on: req.db).all()
        let memberOf = Set(groups.filter { EffectiveState.criteria(of: $0).includes(device, tags: tags, tree: tree) }.compactMap(\.id))
        let values = try await LookupValues.values(for: device, on: req)
        var hub: [String: Any] = [:]
        var apps: [[String: Any]] = []
        for configuration in try await UEMAppConfiguration.query(on: req.db).sort(\.$id).all() {
            guard configuration.platform == "Any" || configuration.platform == device.platform,
                  !memberOf.isDisjoint(with: EffectiveState.ids(configuration.assignedSmartGroups)),
                  let settings = (try? JSONSerialization.jsonObject(with: Data(configuration.settings.utf8))) as? [String: Any],
                  let resolved = LookupValues.resolve(json: settings, values: values) as? [String: Any]
            else { continue }
            if configuration.kind == hubCustomSettings {
                hub.merge(resolved) { _, new in new }
            } else {
                apps.append(["Name": configuration.name, "Application": configuration.application ?? "", "Values": resolved])
            }
        }
        let body: [String: Any] = ["DeviceUuid": values["DeviceUuid"] ?? "", "HubCustomSettings": hub.isEmpty ? NSNull() : hub, "ManagedAppConfigs": apps]
        var headers = HTTPHeaders()
        headers.contentType = .json
        return Response(status: .ok, headers: headers, body: .init(data: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])))
    }
}
