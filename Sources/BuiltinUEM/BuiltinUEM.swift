import Fluent
import Foundation
import Vapor

/// The Workspace ONE-compatible UEM that ships with OpenMTD, mounted under `/API` (paths are
/// case-insensitive; legacy `/API/v1/...` URL versioning is accepted). Authentication is
/// `aw-tenant-code` plus Basic; errors are `{errorCode, message, activityId}`; searches page from 0
/// and answer 204 when empty.
public enum BuiltinUEM {
    public static let migrations: [any Migration] = [U001_CreateOrganization(), U002_CreateDevicesAndTags(), U003_CreateGroupsAndProfiles(), U004_CreateCompliance(), U005_CreateAppConfigurations(), U006_CreateUsersAndOAuthClients(), U007_CreateDeviceApps(), U008_CreateServiceCredentials(), U009_CreateDeviceCommands(), U010_AddCommandStates(), U011_AddProfileDNSSettings(), U012_CreateNotificationTargets()]

    /// What the first start created; the password is only ever shown here.
    public struct Bootstrap: Sendable {
        public var organizationGroupID: Int
        public var tenantCode: String
        public var adminUsername: String
        public var adminPassword: String
    }

    /// Runs a request that writes. The host passes its database write serializer (SQLite takes one
    /// writer at a time); the default runs the request directly.
    public typealias WriteSerialization = @Sendable (@escaping @Sendable () async throws -> Response) async throws -> Response

    /// `lookups` gives lookup values only the host knows (OpenMTD: `{ResolverToken}`).
    public static func routes(_ app: Application, serializeWrites: WriteSerialization? = nil, lookups: (any UEMLookupSource)? = nil,
                              isDatabaseOutage: @escaping @Sendable (any Error) -> Bool = { _ in false }) {
        app.routes.caseInsensitive = true
        if let lookups { app.storage[UEMLookupSourceKey.self] = lookups }
        // OAuth client credentials: Workspace ONE serves tokens from its own host; here it is this server.
        app.on(.POST, "connect", "token", body: .collect(maxSize: "16kb"), use: UEMOAuthController.token)
        // The API's own description, for API clients and fuzzers; public like the admin API's.
        app.get("API", "openapi.json", use: UEMSystemController.openAPI)
        for prefix in [["API"], ["API", "v1"]] {
            let base = app.grouped(prefix.map { PathComponent(stringLiteral: $0) }).grouped(UEMErrorMiddleware(isDatabaseOutage: isDatabaseOutage))
            // Workspace ONE's connectivity check, open like its help page.
            base.get("help", use: UEMSystemController.help)
            // Any other path is a 404 in Workspace ONE's error body that names it (matched last:
            // the router prefers every constant and parameter route to a catch-all).
            for method in [HTTPMethod.GET, .POST, .PUT, .PATCH, .DELETE] {
                base.on(method, "**", body: .collect(maxSize: "16kb"), use: UEMSystemController.unsupported)
            }
            let api = base.grouped(UEMAuthMiddleware(), UEMWriteMiddleware(serialize: serializeWrites))
            api.get("system", "info", use: UEMSystemController.info)
            api.get("system", "groups", "search", use: UEMSystemController.groups)
            api.get("system", "groups", ":id", use: UEMSystemController.group)
            api.post("system", "groups", ":id", use: UEMSystemController.createGroup)
            api.get("system", "groups", ":id", "children", use: UEMSystemController.children)
            api.post("system", "users", "adduser", use: UEMUserController.add)
            api.get("system", "users", "search", use: UEMUserController.search)
            api.get("system", "users", ":id", use: UEMUserController.get)
            api.delete("system", "users", ":id", use: UEMUserController.delete)
            api.post("system", "oauthclients", use: UEMOAuthController.createClient)
            api.post("system", "apikeys", use: UEMAPIKeyController.create)
            api.get("system", "apikeys", use: UEMAPIKeyController.list)
            api.get("system", "eventnotifications", use: UEMNotificationTargetController.list)
            api.post("system", "eventnotifications", use: UEMNotificationTargetController.create)
            api.delete("system", "eventnotifications", ":id", use: UEMNotificationTargetController.delete)
            api.get("mdm", "devices", ":id", "apps", use: UEMDeviceAppController.list)
            api.put("mdm", "devices", ":id", "apps", use: UEMDeviceAppController.report)
            api.post("system", "roles", use: UEMSystemController.createRole)
            api.post("system", "admins", "addadmin", use: UEMSystemController.addAdmin)
            api.get("system", "admins", "search", use: UEMSystemController.searchAdmins)
            api.get("mdm", "devices", "search", use: UEMDeviceController.search)
            api.get("mdm", "devices", use: UEMDeviceController.lookup)
            api.get("mdm", "devices", "udid", ":udid", use: UEMDeviceController.byUDID)
            api.get("mdm", "devices", "security", use: UEMDeviceController.securityBySearch)
            api.get("mdm", "devices", ":id", "security", use: UEMDeviceController.security)
            api.get("mdm", "devices", ":id", "smartgroups", use: UEMDeviceController.smartGroups)
            api.post("mdm", "devices", "enroll", use: UEMDeviceController.enroll)
            api.get("mdm", "devices", ":id", use: UEMDeviceController.get)
            api.delete("mdm", "devices", ":id", use: UEMDeviceController.unenroll)
            api.get("mdm", "devices", ":id", "tags", use: UEMDeviceController.tags)
            api.get("mdm", "devices", ":id", "profiles", use: UEMDeviceController.profiles)
            api.get("mdm", "devices", ":id", "profiles", ":profileId", "payload", use: UEMProfileController.devicePayload)
            api.get("mdm", "devices", ":id", "compliance", use: UEMComplianceController.device)
            api.post("mdm", "devices", ":id", "commands", use: UEMCommandController.byID)
            api.get("mdm", "devices", ":id", "commands", use: UEMCommandController.list)
            api.post("mdm", "devices", "commands", use: UEMCommandController.byAlternateID)
            api.post("mdm", "devices", ":id", "commands", "deliver", use: UEMCommandLifecycle.deliver)
            api.post("mdm", "devices", ":id", "commands", ":commandId", "complete", use: UEMCommandLifecycle.complete)
            api.post("mdm", "devices", ":id", "messages", "push", use: UEMCommandController.pushByID)
            api.post("mdm", "devices", "messages", "push", use: UEMCommandController.pushByAlternateID)
            api.post("mdm", "devices", "mtdthreatlevel", use: UEMComplianceController.reportThreatLevel)
            api.get("mdm", "tags", "search", use: UEMTagController.search)
            api.post("mdm", "tags", "addtag", use: UEMTagController.add)
            api.post("mdm", "tags", ":id", "update", use: UEMTagController.update)
            api.delete("mdm", "tags", ":id", use: UEMTagController.delete)
            api.get("mdm", "tags", ":id", "devices", use: UEMTagController.devices)
            api.post("mdm", "tags", ":id", "adddevices", use: UEMTagController.addDevices)
            api.post("mdm", "tags", ":id", "removedevices", use: UEMTagController.removeDevices)
            api.get("mdm", "smartgroups", "search", use: UEMSmartGroupController.search)
            api.post("mdm", "smartgroups", use: UEMSmartGroupController.create)
            api.get("mdm", "smartgroups", ":id", use: UEMSmartGroupController.get)
            api.put("mdm", "smartgroups", ":id", use: UEMSmartGroupController.update)
            api.delete("mdm", "smartgroups", ":id", use: UEMSmartGroupController.delete)
            api.get("mdm", "smartgroups", ":id", "devices", use: UEMSmartGroupController.devices)
            api.post("mdm", "profiles", use: UEMProfileController.create)
            api.get("mdm", "profiles", "search", use: UEMProfileController.search)
            api.get("mdm", "profiles", ":id", use: UEMProfileController.get)
            api.get("mdm", "devices", ":id", "appconfigurations", use: UEMAppConfigurationController.device)
            api.get("mdm", "appconfigurations", use: UEMAppConfigurationController.search)
            api.post("mdm", "appconfigurations", use: UEMAppConfigurationController.create)
            api.delete("mdm", "appconfigurations", ":id", use: UEMAppConfigurationController.delete)
            api.get("mdm", "compliancepolicies", use: UEMComplianceController.search)
            api.get("mdm", "compliancepolicy", "search", use: UEMComplianceController.search)
            api.post("mdm", "compliancepolicies", use: UEMComplianceController.create)
            api.get("mdm", "compliancepolicies", ":id", use: UEMComplianceController.get)
            api.put("mdm", "compliancepolicies", ":id", use: UEMComplianceController.update)
            api.delete("mdm", "compliancepolicies", ":id", use: UEMComplianceController.delete)
        }
    }

    /// First start: the root organization group, a full-access console role, its admin and an API key.
    public static func bootstrapIfEmpty(on database: any Database, adminPassword: String?) async throws -> Bootstrap? {
        guard try await UEMOrganizationGroup.query(on: database).count() == 0 else { return nil }
        let group = UEMOrganizationGroup(name: "OpenMTD", groupID: "openmtd", parentID: nil, type: "Customer")
        try await group.create(on: database)
        let groupID = try group.requireID()
        var all: [String: UEMPermissionLevel] = [:]
        for category in UEMCategory.allCases { all[category.rawValue] = .edit }
        let role = UEMRole(name: "Console Administrator", permissions: all)
        try await role.create(on: database)
        let password = adminPassword ?? String(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(20))
        try await UEMAdmin(username: "uemadmin", passwordHash: try Bcrypt.hash(password, cost: 10), email: nil, organizationGroupID: groupID, roleID: try role.requireID())
            .create(on: database)
        let code = UUID().uuidString.replacingOccurrences(of: "-", with: "")
        try await UEMAPIKey(code: code, name: "Default", organizationGroupID: groupID).create(on: database)
        return Bootstrap(organizationGroupID: groupID, tenantCode: code, adminUsername: "uemadmin", adminPassword: password)
    }
}

extension BuiltinUEM {
    public struct ServiceAccount: Sendable {
        public var tenantCode: String
        public var username: String
        public var password: String
    }

    /// The API account the MTD of this server uses, with the seed article's role (Admins, Apps,
    /// Devices, Groups, Users Read; Bulk Management Edit; Tags Read and Edit). Its password is
    /// made once and shared by every replica on the database (`ServiceCredentials`).
    public static func ensureMTDServiceAccount(on database: any Database) async throws -> ServiceAccount {
        try await ensureAccount("openmtd_mtd", roleName: "OpenMTD MTD API", permissions: [
            "Admins": .read, "Apps": .read, "Devices": .read, "Groups": .read, "Users": .read, "BulkManagement": .edit, "Tags": .edit,
        ], on: database)
    }

    /// The account automations send device commands with (lock, wipe, sync, messages need Devices
    /// Edit, which the seed article's MTD role rightly lacks) and read smart group members with
    /// (Groups Read): a second account keeps tag sync at least privilege and shows in the command
    /// queue who asked.
    public static func ensureAutomationAccount(on database: any Database) async throws -> ServiceAccount {
        try await ensureAccount("openmtd_automations", roleName: "OpenMTD automations", permissions: [
            "Devices": .edit, "BulkManagement": .edit, "Tags": .edit, "Groups": .read,
        ], on: database)
    }

    /// The account `openmtd serve --demo` enrolls its simulated fleet with (Devices, Groups, Profiles
    /// and Apps Edit). Like the MTD's, its password is made once and shared by every replica.
    public static func ensureDemoAccount(on database: any Database) async throws -> ServiceAccount {
        try await ensureAccount("openmtd_demo", roleName: "OpenMTD demo fleet", permissions: [
            // Tags Read: the demo builds the seed's High Risk smart group on the MTD's tag.
            "Devices": .edit, "Groups": .edit, "Profiles": .edit, "Apps": .edit, "Users": .edit, "Tags": .read,
        ], on: database)
    }

    private static func ensureAccount(_ username: String, roleName: String, permissions: [String: UEMPermissionLevel],
                                      on database: any Database) async throws -> ServiceAccount {
        guard let group = try await UEMOrganizationGroup.query(on: database).sort(\.$id).first(), let groupID = group.id else {
            throw Abort(.internalServerError, reason: "the built-in UEM has no organization group")
        }
        let role: UEMRole
        if let existing = try await UEMRole.query(on: database).filter(\.$name == roleName).first() {
            role = existing
            // OpenMTD owns its service roles: a newer release's permissions replace an older one's.
            let wanted = UEMRole.encode(permissions)
            if existing.permissions != wanted {
                existing.permissions = wanted
                try await existing.update(on: database)
            }
        } else {
            role = UEMRole(name: roleName, permissions: permissions)
            try await role.create(on: database)
        }
        let password = try await ServiceCredentials.password(for: username, on: database)
        if let admin = try await UEMAdmin.query(on: database).filter(\.$username == username).first() {
            try await ServiceCredentials.align(admin, with: password, on: database)
        } else {
            try await UEMAdmin(username: username, passwordHash: try Bcrypt.hash(password, cost: 10), email: nil, organizationGroupID: groupID, roleID: try role.requireID())
                .create(on: database)
        }
        return ServiceAccount(tenantCode: try await TenantCode.first(on: database), username: username, password: password)
    }
}

/// Sends requests that change data through the host's write serializer.
struct UEMWriteMiddleware: AsyncMiddleware {
    let serialize: BuiltinUEM.WriteSerialization?

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let serialize, request.method != .GET, request.method != .HEAD else { return try await next.respond(to: request) }
        return try await serialize { try await next.respond(to: request) }
    }
}

/// The first API key's tenant code (tests and the CLI read it; the log shows it at first start).
public enum TenantCode {
    public static func first(on database: any Database) async throws -> String {
        try await UEMAPIKey.query(on: database).sort(\.$id).first()?.code ?? ""
    }
}
