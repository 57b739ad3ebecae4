import FluentKit
import Foundation
import MTDStore
import UEMClient
import Vapor

/// Connects UEM sync once the server listens: to the UEM an admin saved, the configured Workspace
/// ONE tenant, or this server's own built-in UEM through its REST API (the same client code either
/// way). Then syncs devices periodically. A UEM that is down delays this, never stops it.
enum UEMConnectionLifecycle {
    static func run(app: Application, services: MTDServices) async {
        let configuration = services.configuration
        while !Task.isCancelled {
            var connected = await services.uemSync.isConnected
            do {
                if !connected {
                    connected = try await connect(app: app, services: services)
                }
                if connected {
                    let result = try await services.uemSync.syncDevices(on: app.db)
                    if result.created > 0 || result.deleted > 0 {
                        app.logger.info("UEM device sync", metadata: ["seen": "\(result.seen)", "created": "\(result.created)", "deleted": "\(result.deleted)"])
                    }
                    await services.uemSync.kick()
                }
            } catch {
                await services.uemSync.recordFailure(error)
                app.logger.warning("UEM connection or device sync failed; retrying", metadata: ["error": "\(error)"])
            }
            // Wait in short steps, so that a connection an admin drops or replaces is picked up soon.
            let wait = connected ? configuration.uemDeviceSyncSeconds : 5
            for _ in 0..<max(wait, 1) {
                if Task.isCancelled { break }
                if connected, !(await services.uemSync.isConnected) { break }
                try? await Task.sleep(nanoseconds: 1_000_000_000)
            }
        }
    }

    static func connect(app: Application, services: MTDServices) async throws -> Bool {
        guard let enterprise = try await EnterpriseModel.query(on: app.db).sort(\.$createdAt).first(), let enterpriseID = enterprise.id else { return false }
        let settings = try await UEMIntegrationSettings.load(enterpriseID: enterpriseID, configuration: services.configuration, on: app.db)
        guard let connector = try await settings.connector(app: app, services: services) else { return false }
        do {
            let prepared = try await services.uemSync.prepare(connector, enterpriseID: enterpriseID, mapping: settings.mapping, createMissingTags: settings.createMissingTags)
            await services.uemSync.activate(prepared)
        } catch {
            switch error {
            case .mapping(let problems):
                let text = problems.map(\.description).joined(separator: " | ")
                await services.uemSync.recordProblem("tag mapping: \(text)")
                app.logger.error("UEM tag mapping does not match the UEM's tags; fix the mapping or create the tags", metadata: ["problems": "\(text)"])
            case .uem(let failure):
                throw failure
            }
            return false
        }
        app.logger.notice("UEM sync connected", metadata: ["uem": "\(connector.settings.baseURL)"])
        return true
    }
}
