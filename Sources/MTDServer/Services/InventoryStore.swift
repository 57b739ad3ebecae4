import FluentKit
import Foundation
import MTDCore
import MTDStore

/// A device's app inventory: complete inventories replace it, deltas apply on top when they follow
/// the stored version; a delta that skips a version is not applied and a full inventory is requested.
enum InventoryStore {
    struct Result: Sendable {
        var apps: [InstalledApp]
        var fullInventoryRequired: Bool
        /// Whether the stored inventory changed (and with it the device's inventory version).
        var changed: Bool
    }

    static func apply(_ inventory: AppInventory?, to device: DeviceModel, on tx: any Database) async throws -> Result {
        guard let deviceID = device.id else { return Result(apps: [], fullInventoryRequired: true, changed: false) }
        // The steady state (no inventory, or the version already stored) reads with plain SQL.
        guard let inventory, inventory.complete || inventory.inventoryVersion != device.inventoryVersion else {
            return Result(apps: try await HotQueries.apps(of: deviceID, on: tx), fullInventoryRequired: device.inventoryVersion == nil, changed: false)
        }
        if inventory.complete {
            let stored = try await DeviceAppModel.query(on: tx).filter(\.$device.$id == deviceID).all()
            let incoming = Dictionary((inventory.installed ?? []).map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
            for model in stored where incoming[model.appID] == nil { try await model.delete(on: tx) }
            let byID = Dictionary(stored.map { ($0.appID, $0) }, uniquingKeysWith: { first, _ in first })
            for app in incoming.values { try await upsert(app, existing: byID[app.id], device: device, on: tx) }
            device.inventoryVersion = inventory.inventoryVersion
            return Result(apps: Array(incoming.values).sorted { $0.id < $1.id }, fullInventoryRequired: false, changed: true)
        }
        let expected = (device.inventoryVersion ?? -1) + 1
        guard inventory.inventoryVersion == expected else {
            return Result(apps: try await HotQueries.apps(of: deviceID, on: tx), fullInventoryRequired: true, changed: false)
        }
        // A delta touches only the apps it names; the rest of the inventory is not loaded as models.
        let removed = inventory.removed ?? []
        if !removed.isEmpty {
            try await DeviceAppModel.query(on: tx).filter(\.$device.$id == deviceID).filter(\.$appID ~~ removed).delete()
        }
        let installed = inventory.installed ?? []
        if !installed.isEmpty {
            let existing = try await DeviceAppModel.query(on: tx).filter(\.$device.$id == deviceID).filter(\.$appID ~~ installed.map(\.id)).all()
            let byID = Dictionary(existing.map { ($0.appID, $0) }, uniquingKeysWith: { first, _ in first })
            for app in installed { try await upsert(app, existing: byID[app.id], device: device, on: tx) }
        }
        device.inventoryVersion = inventory.inventoryVersion
        return Result(apps: try await HotQueries.apps(of: deviceID, on: tx), fullInventoryRequired: false, changed: true)
    }

    @discardableResult
    static func upsert(_ app: InstalledApp, existing: DeviceAppModel?, device: DeviceModel, on tx: any Database) async throws -> DeviceAppModel {
        let model = existing ?? DeviceAppModel()
        let permissions = app.permissions.map { StoredJSON.text($0) }
        let unchanged = existing != nil && model.name == app.name && model.version == app.version && model.source == app.source?.rawValue
            && model.signerSha1 == app.signerSha1?.description && model.signerSha256 == app.signerSha256?.description
            && model.sha256 == app.sha256?.description && model.permissions == permissions
        if unchanged { return model }
        model.$device.id = device.id ?? UUID()
        model.enterpriseID = device.$enterprise.id
        model.appID = app.id
        model.name = app.name
        model.version = app.version
        model.source = app.source?.rawValue
        model.signerSha1 = app.signerSha1?.description
        model.signerSha256 = app.signerSha256?.description
        model.sha256 = app.sha256?.description
        model.permissions = permissions
        try await model.save(on: tx)
        return model
    }
}
