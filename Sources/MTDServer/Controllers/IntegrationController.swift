import FluentKit
import Foundation
import MTDCore
import MTDStore
import UEMClient
import Vapor

/// `/api/v1/integrations/uem`: the UEM connection, its tag mapping (validated against the UEM's
/// tags when saved), a credentials test, sync status and on-demand sync.
enum IntegrationController {
    static func get(_ req: Request) async throws -> UEMIntegrationStatus {
        let principal = try req.admin
        let services = req.application.mtd
        let settings = try await UEMIntegrationSettings.load(enterpriseID: principal.enterpriseID, configuration: services.configuration, on: req.db)
        return await status(settings, enterpriseID: principal.enterpriseID, services: services)
    }

    static func put(_ req: Request) async throws -> UEMIntegrationStatus {
        let principal = try req.admin
        // Who may change it is settled before the body is read: a refused caller learns nothing.
        try principal.require(\.canManageEnterprise, "change the UEM connection")
        let current = try await UEMIntegrationSettings.load(enterpriseID: principal.enterpriseID, configuration: req.application.mtd.configuration, on: req.db)
        return try await save(try settings(from: req, current: current), principal: principal, on: req)
    }

    /// Tests the settings against the UEM, saves them (audited) and switches UEM sync over to them.
    static func save(_ settings: UEMIntegrationSettings, principal: AdminPrincipal, on req: Request) async throws -> UEMIntegrationStatus {
        try principal.require(\.canManageEnterprise, "change the UEM connection")
        let services = req.application.mtd
        try await requireSyncedEnterprise(principal.enterpriseID, on: req)
        guard let connector = try await settings.connector(app: req.application, services: services) else {
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
            try await req.db.transaction { tx in
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
        await services.uemSync.activate(prepared, settingsStamp: try await UEMConnectionLifecycle.savedStamp(app: req.application))
        // The UEM_CONNECTION event makes UEM sync, in whichever replica holds its lease, reconnect
        // and reconcile every device against the new mapping at once.
        return await status(settings, enterpriseID: principal.enterpriseID, services: services)
    }

    /// Tries settings (the body's, or the saved ones for an empty body) without saving or creating anything.
    static func test(_ req: Request) async throws -> UEMConnectionTest {
        let principal = try req.admin
        try principal.require(\.canManageEnterprise, "test the UEM connection")
        let current = try await UEMIntegrationSettings.load(enterpriseID: principal.enterpriseID, configuration: req.application.mtd.configuration, on: req.db)
        let settings = (req.body.data?.readableBytes ?? 0) > 0 ? try settings(from: req, current: current) : current
        return try await test(settings, on: req)
    }

    static func test(_ settings: UEMIntegrationSettings, on req: Request) async throws -> UEMConnectionTest {
        guard let connector = try await settings.connector(app: req.application, services: req.application.mtd) else {
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
    static func sync(_ req: Request) async throws -> UEMSyncResult {
        let principal = try req.admin
        try principal.require(\.canRunUEMSync, "start a UEM sync")
        try await requireSyncedEnterprise(principal.enterpriseID, on: req)
        let sync = req.application.mtd.uemSync
        guard await sync.isConnected else {
            throw APIError(status: .conflict, code: "uem_not_connected", message: "UEM sync is not connected: \(await sync.status().lastError ?? "it is still connecting"); check GET /api/v1/integrations/uem")
        }
        do {
            let devices = try await sync.syncDevices(on: req.db)
            let calls = try await sync.reconcile(devices: nil, on: req.db)
            return UEMSyncResult(devicesSeen: devices.seen, devicesCreated: devices.created, devicesDeleted: devices.deleted, uemCalls: calls)
        } catch let error as UEMClientError {
            await sync.recordFailure(error)
            throw apiError(.uem(error))
        }
    }

    // MARK: Helpers

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
    static func requireSyncedEnterprise(_ enterpriseID: UUID, on req: Request) async throws {
        guard let first = try await EnterpriseModel.query(on: req.db).sort(\.$createdAt).first()?.id, first == enterpriseID else {
            throw APIError.conflict("UEM sync runs for this server's first enterprise only; run a separate OpenMTD server for this enterprise's UEM")
        }
    }

    static func settings(from req: Request, current: UEMIntegrationSettings) throws -> UEMIntegrationSettings {
        guard let buffer = req.body.data else { throw APIError.badRequest("empty body; send the UEM connection as JSON", field: "$") }
        try checkFields(Data(buffer: buffer))
        return try settings(from: try req.content.decode(UEMIntegrationRequest.self), current: current)
    }

    static func settings(from body: UEMIntegrationRequest, current: UEMIntegrationSettings) throws -> UEMIntegrationSettings {
        let mapping = body.tagMapping ?? current.mapping
        for (field, tag) in mapping.entries where tag.trimmingCharacters(in: .whitespaces).isEmpty {
            throw APIError.badRequest("empty tag name; leave the field out to give that state no tag", field: "$.tagMapping.\(field)")
        }
        switch body.kind {
        case UEMIntegrationSettings.builtinKind:
            return UEMIntegrationSettings(target: .builtin, mapping: mapping, createMissingTags: body.createMissingTags ?? current.createMissingTags, saved: true)
        case UEMIntegrationSettings.workspaceOneKind:
            guard let baseURL = body.baseURL, let url = URL(string: baseURL), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                throw APIError.badRequest("the UEM's REST API address, e.g. https://as1234.awmdm.com/API", field: "$.baseURL")
            }
            guard let tenantCode = body.tenantCode, !tenantCode.isEmpty else {
                throw APIError.badRequest("the REST API key (aw-tenant-code) from the UEM console is required", field: "$.tenantCode")
            }
            var oauth: WorkspaceOneClient.OAuth?
            var username = "", password = ""
            if let given = body.oauth {
                guard URL(string: given.tokenURL)?.host != nil else {
                    throw APIError.badRequest("the OAuth token address, e.g. https://na.uemauth.vmwservices.com/connect/token", field: "$.oauth.tokenURL")
                }
                guard !given.clientID.isEmpty, !given.clientSecret.isEmpty else {
                    throw APIError.badRequest("the OAuth client id and secret are required", field: "$.oauth")
                }
                oauth = .init(tokenURL: given.tokenURL, clientID: given.clientID, clientSecret: given.clientSecret)
            } else {
                guard let user = body.username, !user.isEmpty else {
                    throw APIError.badRequest("the API account's username is required (or give oauth client credentials)", field: "$.username")
                }
                username = user
                if let given = body.password, !given.isEmpty {
                    password = given
                } else if case .workspaceOne(let saved) = current.target, saved.username == user, !saved.password.isEmpty {
                    password = saved.password
                } else {
                    throw APIError.badRequest("the API account's password is required", field: "$.password")
                }
            }
            let settings = WorkspaceOneClient.Settings(baseURL: baseURL, tenantCode: tenantCode, username: username, password: password, oauth: oauth)
            return UEMIntegrationSettings(target: .workspaceOne(settings), mapping: mapping, createMissingTags: body.createMissingTags ?? false, saved: true)
        default:
            throw APIError.badRequest("unknown kind \"\(body.kind)\"; use \"builtin\" or \"workspace-one\"", field: "$.kind")
        }
    }

    /// A misspelt field would otherwise be ignored and the admin left wondering why nothing changed.
    static func checkFields(_ data: Data) throws {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw APIError.badRequest("the body must be a JSON object", field: "$")
        }
        for key in object.keys where !UEMIntegrationRequest.fields.contains(key) {
            let hint = Suggestion.closest(to: key, in: UEMIntegrationRequest.fields).map { "; did you mean \"\($0)\"?" } ?? ""
            throw APIError.badRequest("unknown field \"\(key)\"\(hint)", field: "$.\(key)")
        }
        if let mapping = object["tagMapping"] as? [String: Any] {
            for key in mapping.keys where !UEMIntegrationRequest.mappingFields.contains(key) {
                let hint = Suggestion.closest(to: key, in: UEMIntegrationRequest.mappingFields).map { "; did you mean \"\($0)\"?" } ?? ""
                throw APIError.badRequest("unknown tag mapping field \"\(key)\"\(hint)", field: "$.tagMapping.\(key)")
            }
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
