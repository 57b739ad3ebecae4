import BuiltinUEM
import FluentKit
import Foundation
import MTDStore
import UEMClient
import Vapor

/// Connects UEM sync once the server listens: to the configured Workspace ONE tenant, or to this
/// server's own built-in UEM through its REST API (the same client code either way). Then syncs
/// devices and repairs tag drift periodically. A UEM that is down delays this, never stops it.
enum UEMConnectionLifecycle {
    static func run(app: Application, services: MTDServices) async {
        let configuration = services.configuration
        var connected = false
        while !Task.isCancelled {
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
                app.logger.warning("UEM connection or device sync failed; retrying", metadata: ["error": "\(error)"])
            }
            let wait = connected ? configuration.uemDeviceSyncSeconds : 5
            try? await Task.sleep(nanoseconds: UInt64(wait) * 1_000_000_000)
        }
    }

    static func connect(app: Application, services: MTDServices) async throws -> Bool {
        let configuration = services.configuration
        guard let enterprise = try await EnterpriseModel.query(on: app.db).sort(\.$createdAt).first(), let enterpriseID = enterprise.id else { return false }
        let settings: WorkspaceOneClient.Settings
        let createMissing: Bool
        if let tenant = configuration.uem {
            settings = .init(baseURL: tenant.baseURL, tenantCode: tenant.tenantCode, username: tenant.username, password: tenant.password)
            createMissing = configuration.uemCreateMissingTags
        } else {
            guard let port = app.http.server.shared.localAddress?.port else { return false }
            let host = configuration.hostname == "0.0.0.0" ? "127.0.0.1" : configuration.hostname
            let account = try await services.writes.run { try await BuiltinUEM.ensureMTDServiceAccount(on: app.db) }
            settings = .init(baseURL: "http://\(host):\(port)/API", tenantCode: account.tenantCode, username: account.username, password: account.password)
            createMissing = true
        }
        let problems = try await services.uemSync.connect(
            WorkspaceOneClient(settings: settings), enterpriseID: enterpriseID, mapping: TagMapping(), createMissingTags: createMissing)
        if !problems.isEmpty {
            app.logger.error("UEM tag mapping does not match the UEM's tags; fix the mapping or create the tags", metadata: [
                "problems": "\(problems.map(\.description).joined(separator: " | "))",
            ])
            return false
        }
        app.logger.notice("UEM sync connected", metadata: ["uem": "\(settings.baseURL)"])
        return true
    }
}
