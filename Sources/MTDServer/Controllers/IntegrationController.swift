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
        return await UEMIntegrationService.status(settings, enterpriseID: principal.enterpriseID, services: services)
    }

    static func put(_ req: Request) async throws -> UEMIntegrationStatus {
        let principal = try req.admin
        // Who may change it is settled before the body is read: a refused caller learns nothing.
        try principal.require(\.canManageEnterprise, "change the UEM connection")
        let current = try await UEMIntegrationSettings.load(enterpriseID: principal.enterpriseID, configuration: req.application.mtd.configuration, on: req.db)
        return try await UEMIntegrationService.save(try settings(from: req, current: current), principal: principal, app: req.application)
    }

    /// Tries settings (the body's, or the saved ones for an empty body) without saving or creating anything.
    static func test(_ req: Request) async throws -> UEMConnectionTest {
        let principal = try req.admin
        try principal.require(\.canManageEnterprise, "test the UEM connection")
        let current = try await UEMIntegrationSettings.load(enterpriseID: principal.enterpriseID, configuration: req.application.mtd.configuration, on: req.db)
        let settings = (req.body.data?.readableBytes ?? 0) > 0 ? try settings(from: req, current: current) : current
        return try await UEMIntegrationService.test(settings, principal: principal, app: req.application)
    }

    /// Device sync, tag and threat-level reconciliation now, instead of at the next interval.
    static func sync(_ req: Request) async throws -> UEMSyncResult {
        try await UEMIntegrationService.syncNow(principal: try req.admin, app: req.application)
    }

    // MARK: Helpers

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
}
