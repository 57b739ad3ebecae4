import FluentKit
import Foundation
import MTDCore
import MTDStore

/// A device's app inventory: complete inventories replace it, deltas apply on top when they follow
/// the stored version; a delta that skips a version is not applied and a full inventory is requested.
///
/// `plan` works out the change in memory from the stored inventory; `write` applies it with two
/// statements at most (the rows that go, the rows that come).
enum InventoryStore {
    struct Plan: Sendable {
        /// The inventory after the change, ordered by app id.
        var apps: [InstalledApp]
        var fullInventoryRequired: Bool
        /// The device's inventory version after the change.
        var inventoryVersion: Int?
        /// App ids whose rows go (removed, or replaced because they changed).
        var deleting: [String] = []
        /// Rows that come (new apps, and the new version of changed ones).
        var inserting: [InstalledApp] = []
    }

    /// The change `inventory` makes to `stored` (ordered by app id) at `storedVersion`.
    static func plan(_ inventory: AppInventory?, stored: [InstalledApp], storedVersion: Int?) -> Plan {
        let unchanged = Plan(apps: stored, fullInventoryRequired: storedVersion == nil, inventoryVersion: storedVersion)
        guard let inventory, inventory.complete || inventory.inventoryVersion != storedVersion else { return unchanged }
        let byID = Dictionary(stored.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var result = byID
        var deleting: Set<String> = []
        var inserting: [String: InstalledApp] = [:]
        if inventory.complete {
            let incoming = Dictionary((inventory.installed ?? []).map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
            for id in byID.keys where incoming[id] == nil { deleting.insert(id) }
            result = incoming
            for (id, app) in incoming where byID[id] != app { inserting[id] = app }
        } else {
            // The stored version came from an agent and may be Int.max: no next version then, and
            // the agent is asked for a full inventory, which sets any version.
            let (expected, overflow) = (storedVersion ?? -1).addingReportingOverflow(1)
            guard !overflow, inventory.inventoryVersion == expected else {
                return Plan(apps: stored, fullInventoryRequired: true, inventoryVersion: storedVersion)
            }
            for id in inventory.removed ?? [] where byID[id] != nil {
                result[id] = nil
                deleting.insert(id)
            }
            // An app both removed and installed in one delta is installed: installs apply last.
            for app in inventory.installed ?? [] {
                result[app.id] = app
                if byID[app.id] != app { inserting[app.id] = app } else { deleting.remove(app.id) }
            }
        }
        // A changed app's old row goes before its new one comes.
        for id in inserting.keys where byID[id] != nil { deleting.insert(id) }
        return Plan(
            apps: result.values.sorted { $0.id < $1.id }, fullInventoryRequired: false, inventoryVersion: inventory.inventoryVersion,
            deleting: deleting.sorted(), inserting: inserting.values.sorted { $0.id < $1.id })
    }

    /// Writes the plans of several devices (a group of check-ins): one DELETE and one INSERT for all.
    static func write(_ plans: [(deviceID: UUID, enterpriseID: UUID, plan: Plan)], on tx: any Database) async throws {
        let deletions = plans.filter { !$0.plan.deleting.isEmpty }.map { (deviceID: $0.deviceID, appIDs: $0.plan.deleting) }
        if !deletions.isEmpty { try await HotQueries.deleteApps(deletions, on: tx) }
        let rows = plans.flatMap { entry in entry.plan.inserting.map { (deviceID: entry.deviceID, enterpriseID: entry.enterpriseID, app: $0) } }
        if !rows.isEmpty { try await HotQueries.insertApps(rows, on: tx) }
    }
}
