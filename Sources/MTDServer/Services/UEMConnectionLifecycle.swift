import FluentKit
import Foundation
import MTDStore
import UEMClient
import Vapor

/// Keeps this replica connected to the UEM: the one an admin saved, the configured Workspace ONE
/// tenant, or this server's own built-in UEM through its REST API (the same client code either way).
/// Every replica connects, so any of them answers status and manual sync requests; only the replica
/// holding the `uem-tags` lease syncs (UEMSyncConsumer). Saved settings that change (in any
/// replica) are picked up within `checkSeconds`. A UEM that is down delays this, never stops it.
enum UEMConnectionLifecycle {
    static let checkSeconds: UInt64 = 5

    static func run(app: Application, services: MTDServices) async {
        while !Task.isCancelled {
            do {
                let stamp = try await savedStamp(app: app)
                let connected = await services.uemSync.isConnected
                let current = await services.uemSync.settingsStamp
                if !connected || stamp != current {
                    _ = try await connect(app: app, services: services)
                }
            } catch {
                await services.uemSync.recordFailure(error)
                app.logger.warning("UEM connection failed; retrying", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(nanoseconds: checkSeconds * 1_000_000_000)
        }
    }

    /// When the saved UEM settings last changed (nil when none are saved).
    static func savedStamp(app: Application) async throws -> Date? {
        guard let enterprise = try await EnterpriseModel.query(on: app.db).sort(\.$createdAt).first(), let enterpriseID = enterprise.id else { return nil }
        return try await UEMIntegrationModel.query(on: app.db).filter(\.$enterprise.$id == enterpriseID).first()?.updatedAt
    }

    static func connect(app: Application, services: MTDServices) async throws -> Bool {
        guard let enterprise = try await EnterpriseModel.query(on: app.db).sort(\.$createdAt).first(), let enterpriseID = enterprise.id else { return false }
        let stamp = try await savedStamp(app: app)
        let settings = try await UEMIntegrationSettings.load(enterpriseID: enterpriseID, configuration: services.configuration, on: app.db)
        guard let connector = try await settings.connector(app: app, services: services) else { return false }
        do {
            let prepared = try await services.uemSync.prepare(connector, key: settings.connectionKey, enterpriseID: enterpriseID, mapping: settings.mapping, createMissingTags: settings.createMissingTags)
            await services.uemSync.activate(prepared, settingsStamp: stamp)
        } catch {
            switch error {
            case .mapping(let problems):
                let text = problems.map(\.description).joined(separator: " | ")
                await services.uemSync.recordProblem("tag mapping: \(text)")
                await services.uemSync.disconnect(settingsStamp: stamp)
                app.logger.error("UEM tag mapping does not match the UEM's tags; fix the mapping or create the tags", metadata: ["problems": "\(text)"])
            case .uem(let failure):
                throw failure
            }
            return false
        }
        app.logger.notice("UEM sync connected", metadata: ["uem": "\(settings.address)"])
        return true
    }
}
