import BuiltinUEM
import FluentKit
import Foundation
import MTDStore
import UEMClient
import Vapor

/// Which UEM an enterprise syncs with, and how: what an admin saved (`/api/v1/integrations/uem`),
/// else the server configuration's tenant, else this server's own built-in UEM.
struct UEMIntegrationSettings: Sendable, Equatable {
    enum Target: Sendable, Equatable {
        case builtin
        case workspaceOne(WorkspaceOneClient.Settings)
    }

    var target: Target
    var mapping: TagMapping
    var createMissingTags: Bool
    /// Whether an admin saved these (rather than configuration or defaults).
    var saved: Bool

    static let builtinKind = "builtin"
    static let workspaceOneKind = "workspace-one"

    static func load(enterpriseID: UUID, configuration: ServerConfiguration, on database: any Database) async throws -> UEMIntegrationSettings {
        if let row = try await UEMIntegrationModel.query(on: database).filter(\.$enterprise.$id == enterpriseID).first() {
            return UEMIntegrationSettings(row)
        }
        if let tenant = configuration.uem {
            return UEMIntegrationSettings(
                target: .workspaceOne(.init(baseURL: tenant.baseURL, tenantCode: tenant.tenantCode, username: tenant.username, password: tenant.password)),
                mapping: TagMapping(), createMissingTags: configuration.uemCreateMissingTags, saved: false)
        }
        // The built-in UEM is this server's own: its tags are created on first connect.
        return UEMIntegrationSettings(target: .builtin, mapping: TagMapping(), createMissingTags: true, saved: false)
    }

    init(target: Target, mapping: TagMapping, createMissingTags: Bool, saved: Bool) {
        self.target = target
        self.mapping = mapping
        self.createMissingTags = createMissingTags
        self.saved = saved
    }

    init(_ row: UEMIntegrationModel) {
        if row.kind == Self.workspaceOneKind {
            let oauth = row.oauthClientID.map { WorkspaceOneClient.OAuth(tokenURL: row.oauthTokenURL ?? "", clientID: $0, clientSecret: row.oauthClientSecret ?? "") }
            target = .workspaceOne(.init(baseURL: row.baseURL ?? "", tenantCode: row.tenantCode ?? "", username: row.username ?? "", password: row.password ?? "", oauth: oauth))
        } else {
            target = .builtin
        }
        mapping = (try? JSONDecoder().decode(TagMapping.self, from: Data(row.tagMapping.utf8))) ?? TagMapping()
        createMissingTags = row.createMissingTags
        saved = true
    }

    /// Which UEM these settings reach, as per-device UEM state is keyed (device ids, confirmed tags,
    /// reported threat levels): another tenant or another kind is another connection and starts clean.
    var connectionKey: String {
        switch target {
        case .builtin: "builtin"
        case .workspaceOne(let settings):
            "workspace-one \(settings.baseURL.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "/"))) \(settings.tenantCode)"
        }
    }

    /// Where the UEM is, for logs and audit events.
    var address: String {
        switch target {
        case .builtin: "built-in UEM"
        case .workspaceOne(let settings): settings.baseURL
        }
    }

    /// Which built-in UEM account a connector signs in with: tag sync keeps the seed article's
    /// least-privilege role; automations' device commands need Devices Edit.
    enum Purpose: Sendable {
        case sync
        case automation
    }

    /// The connector for these settings, chosen by kind. The built-in UEM is reached over this
    /// server's own REST API with its service account, exactly as an external tenant would be. A
    /// Workspace ONE tenant is reached with the one configured account for every purpose.
    func connector(app: Application, services: MTDServices, purpose: Purpose = .sync) async throws -> (any UEMConnector)? {
        switch target {
        case .workspaceOne(let settings):
            // An admin-supplied address: every connection passes the egress policy.
            return WorkspaceOneClient(settings: settings, egress: EgressGuard(policy: services.configuration.egressPolicy))
        case .builtin:
            guard let base = services.loopbackBaseURL(app: app) else { return nil }
            let account = switch purpose {
            case .sync: try await services.builtinServiceAccount(app: app)
            case .automation: try await services.builtinAutomationAccount(app: app)
            }
            return WorkspaceOneClient(
                settings: .init(baseURL: "\(base)/API", tenantCode: account.tenantCode, username: account.username, password: account.password),
                http: services.loopbackHTTP ?? .shared, egress: nil)
        }
    }

    func save(enterpriseID: UUID, on database: any Database) async throws {
        let row = try await UEMIntegrationModel.query(on: database).filter(\.$enterprise.$id == enterpriseID).first() ?? UEMIntegrationModel()
        row.$enterprise.id = enterpriseID
        switch target {
        case .builtin:
            row.kind = Self.builtinKind
            row.baseURL = nil
            row.tenantCode = nil
            row.username = nil
            row.password = nil
            row.oauthTokenURL = nil
            row.oauthClientID = nil
            row.oauthClientSecret = nil
        case .workspaceOne(let settings):
            row.kind = Self.workspaceOneKind
            row.baseURL = settings.baseURL
            row.tenantCode = settings.tenantCode
            row.username = settings.oauth == nil ? settings.username : nil
            row.password = settings.oauth == nil ? settings.password : nil
            row.oauthTokenURL = settings.oauth?.tokenURL
            row.oauthClientID = settings.oauth?.clientID
            row.oauthClientSecret = settings.oauth?.clientSecret
        }
        row.tagMapping = StoredJSON.text(mapping)
        row.createMissingTags = createMissingTags
        try await row.save(on: database)
    }
}
