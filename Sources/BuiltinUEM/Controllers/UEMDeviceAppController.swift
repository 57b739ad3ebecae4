import Fluent
import Foundation
import MTDCore
import Vapor

/// `/API/mdm/devices/{id}/apps`: the apps on a device, and (OpenMTD extension) `PUT` to report them.
enum UEMDeviceAppController {
    struct App: Content {
        var ApplicationIdentifier: String
        var ApplicationName: String
        var Version: String?
        var `Type`: String?
    }

    static func list(_ req: Request) async throws -> Response {
        try req.uem.require(.apps, .read)
        let device = try await UEMDeviceController.find(req)
        let apps = try await UEMDeviceApp.query(on: req.db).filter(\.$deviceID == (device.id ?? -1)).sort(\.$name).all()
        let window = try req.uemPage
        let items = apps.dropFirst(window.offset).prefix(window.size).map {
            App(ApplicationIdentifier: $0.applicationIdentifier, ApplicationName: $0.name, Version: $0.version, Type: $0.type)
        }
        return try UEMPaging.response("DeviceApps", items: Array(items), total: apps.count, page: window.page, size: window.size, for: req)
    }

    /// Replaces the device's app list with the reported one.
    static func report(_ req: Request) async throws -> HTTPStatus {
        try req.uem.require(.devices, .edit)
        let device = try await UEMDeviceController.find(req)
        let deviceID = try device.requireID()
        struct Body: Content { var DeviceApps: [App] }
        let apps = try req.content.decode(Body.self).DeviceApps
        guard apps.count <= 5000 else { throw UEMError.invalid("At most 5000 apps per device; got \(apps.count).") }
        for (index, app) in apps.enumerated() where app.ApplicationIdentifier.isEmpty {
            throw UEMError.invalid("DeviceApps[\(index)].ApplicationIdentifier is required.")
        }
        let unique = Dictionary(apps.map { ($0.ApplicationIdentifier, $0) }, uniquingKeysWith: { _, last in last })
        let now = Date()
        try await req.db.uemChange { tx in
            try await UEMDeviceApp.query(on: tx).filter(\.$deviceID == deviceID).delete()
            for app in unique.values.sorted(by: { $0.ApplicationIdentifier < $1.ApplicationIdentifier }) {
                let row = UEMDeviceApp()
                row.deviceID = deviceID
                row.applicationIdentifier = app.ApplicationIdentifier
                row.name = app.ApplicationName.isEmpty ? app.ApplicationIdentifier : app.ApplicationName
                row.version = app.Version
                row.type = app.Type ?? "Public"
                row.reportedAt = now
                try await row.create(on: tx)
            }
        }
        return .noContent
    }
}
