import FluentKit
import Foundation
import MTDCore
import MTDStore
import UEMClient
import Vapor

/// The UEM connection as admins manage it: save (tested against the UEM, audited), test, status and
/// a sync on demand. The admin API and the console call these functions, which check the
/// permission; they take the application because the built-in UEM is reached over this server's
/// own listening address.
enum UEMIntegrationService {
    /// Tests the settings against the UEM, saves them (audited) and switches UEM sync over to them.
    static func save(_ settings: UEMIntegrationSettings, principal: AdminPrincipal, app: Application) async throws -> UEMIntegrationStatus {
        try principal.require(\.canManageEnterprise, "change the UEM connection")
        let services = app.mtd
        try await requireSyncedEnterprise(principal.enterpriseID, on: app.db)
        guard let connector = try await settings.connector(app: app, services: services) else {
            throw APIError(status: .serviceUnavailable, code: "not_listening", message: "the server is not listening yet; try again in a moment")
        }
        let prepared: UEMSync.Connection
        do {
            prepared = try await services.uemSync.prepare(
                connector, key: settings.connectionKey, enterpriseID: principal.enterpriseID, mapping: settings.mapping, createMissingTags: settings.createMissingTags)
        } catch {
            throw apiError(error)
        }
        try await services.writes.run {
            try await app.db.transaction { tx in
                try await settings.save(enterpriseID: principal.enterpriseID, on: tx)
                try await EventLog.append([
                    .init(type: .audit, change: .updated, actor: principal.actor, target: .init(type: "ENTERPRISE", guid: principal.enterpriseID.uuidString.lowercased()),
                          payload: AuditPayload(type: "UEM_CONNECTION", changes: [
                              .init(name: "kind", to: settings.kind), .init(name: "uem", to: settings.address),
                              .init(name: "tag_mapping", to: StoredJSON.text(settings.mapping)),
                          ]))
                ], enterpriseID: principal.enterpriseID, on: tx, now: Date())
            }
        }
        await services.uemSync.activate(prepared, settingsStamp: try await UEMConnectionLifecycle.savedStamp(app: app))
        // The UEM_CONNECTION event makes UEM sync, in whichever replica holds its lease, reconnect
        // and reconcile every device against the new mapping at once.
        return await status(settings, enterpriseID: principal.enterpriseID, services: services)
    }

    static func test(_ settings: UEMIntegrationSettings, principal: AdminPrincipal, app: Application) async throws -> UEMConnectionTest {
        try principal.require(\.canManageEnterprise, "test the UEM connection")
        guard let connector = try await settings.connector(app: app, services: app.mtd) else {
            throw APIError(status: .serviceUnavailable, code: "not_listening", message: "the server is not listening yet; try again in a moment")
        }
        do {
            let info = try await connector.systemInfo()
            let tags = try await connector.tags()
            let problems = settings.mapping.validate(against: tags)
            return UEMConnectionTest(
                ok: problems.isEmpty || settings.createMissingTags, product: info.product, productVersion: info.version, complianceSync: info.supportsThreatLevel,
                tagCount: tags.count, mappingProblems: problems.map { .init(field: $0.field, tag: $0.tag, suggestion: $0.suggestion, message: $0.description) })
        } catch {
            throw apiError(.uem(error))
        }
    }

    /// Device sync, tag and threat-level reconciliation now, instead of at the next interval.
    static func syncNow(principal: AdminPrincipal, app: Application) async throws -> UEMSyncResult {
        try principal.require(\.canRunUEMSync, "start a UEM sync")
        try await requireSyncedEnterprise(principal.enterpriseID, on: app.db)
        let sync = app.mtd.uemSync
        guard await sync.isConnected else {
            throw APIError(status: .conflict, code: "uem_not_connected", message: "UEM sync is not connected: \(await sync.status().lastError ?? "it is still connecting"); check GET /api/v1/integrations/uem")
        }
        do {
            let devices = try await sync.syncDevices(on: app.db)
            let calls = try await sync.reconcile(devices: nil, on: app.db)
            return UEMSyncResult(devicesSeen: devices.seen, devicesCreated: devices.created, devicesDeleted: devices.deleted, uemCalls: calls)
        } catch let error as UEMClientError {
            await sync.recordFailure(error)
            throw apiError(.uem(error))
        }
    }

    static func status(_ settings: UEMIntegrationSettings, enterpriseID: UUID, services: MTDServices) async -> UEMIntegrationStatus {
        let sync = await services.uemSync.status()
        let serves = await services.uemSync.current?.enterpriseID == enterpriseID
        var status = UEMIntegrationStatus(
            kind: settings.kind, saved: settings.saved, baseURL: nil, tenantCode: nil, username: nil, authentication: "service-account",
            connected: sync.connected && serves, product: serves ? sync.info?.product : nil, productVersion: serves ? sync.info?.version : nil,
            complianceSync: serves && (sync.info?.supportsThreatLevel ?? false), tagMapping: settings.mapping, createMissingTags: settings.createMissingTags,
            sync: .init(lastSuccess: sync.lastSuccess, lastError: sync.lastError, lastErrorAt: sync.lastErrorAt, errors: sync.errors,
                        pendingChanges: sync.pendingChanges, callsMade: sync.callsMade,
                        lastDeviceSync: sync.lastDeviceSync.map { .init(at: $0.at, seen: $0.seen, created: $0.created, deleted: $0.deleted) }))
        if case .workspaceOne(let tenant) = settings.target {
            status.baseURL = tenant.baseURL
            status.tenantCode = tenant.tenantCode
            status.username = tenant.oauth == nil ? tenant.username : nil
            status.authentication = tenant.oauth == nil ? "basic" : "oauth"
        }
        return status
    }

    /// UEM sync serves the server's first enterprise; saying so beats silently syncing another.
    static func requireSyncedEnterprise(_ enterpriseID: UUID, on database: any Database) async throws {
        guard let first = try await EnterpriseModel.query(on: database).sort(\.$createdAt).first()?.id, first == enterpriseID else {
            throw APIError.conflict("UEM sync runs for this server's first enterprise only; run a separate OpenMTD server for this enterprise's UEM")
        }
    }

    static func apiError(_ failure: UEMSync.ConnectFailure) -> APIError {
        switch failure {
        case .mapping(let problems):
            return .unprocessable(
                "tag_mapping", "the UEM lacks \(problems.count) mapped tag(s): " + problems.map(\.description).joined(separator: "; "),
                field: problems.first.map { "$.tagMapping.\($0.field)" },
                problems: problems.map { .init(field: "$.tagMapping.\($0.field)", message: $0.description, suggestion: $0.suggestion) })
        case .uem(let error):
            switch error {
            case .credentials: return .unprocessable("uem_credentials", error.description + "; check the username and password (or OAuth client)")
            case .forbidden: return .unprocessable("uem_forbidden", error.description + "; check the tenant code and that the account's role has Tags Read and Edit and Bulk Management Edit")
            case .notFound: return .unprocessable("uem_not_found", error.description + "; check the base URL (it ends in /API)", field: "$.baseURL")
            case .unavailable, .unexpected: return APIError(status: .badGateway, code: "uem_unavailable", message: error.description)
            case .refused(let message):
                return .unprocessable("egress_refused", error.description + "; see the egress settings (egressAllow, egressDeny)",
                                      field: message.hasPrefix("OAuth token URL") ? "$.oauth.tokenURL" : "$.baseURL")
            }
        }
    }
}

extension UEMIntegrationSettings {
    var kind: String {
        if case .workspaceOne = target { return Self.workspaceOneKind }
        return Self.builtinKind
    }
}
