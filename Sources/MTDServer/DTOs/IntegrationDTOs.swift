import Foundation
import UEMClient
import Vapor

/// `PUT /api/v1/integrations/uem` and `POST /api/v1/integrations/uem/test`.
struct UEMIntegrationRequest: Content {
    struct OAuth: Content {
        var tokenURL: String
        var clientID: String
        var clientSecret: String
    }

    /// `builtin` or `workspace-one`.
    var kind: String
    var baseURL: String?
    var tenantCode: String?
    var username: String?
    /// Omit to keep the saved password of the same account.
    var password: String?
    var oauth: OAuth?
    /// The whole mapping: a state left out gets no tag. Omit to keep the saved (or default) mapping.
    var tagMapping: TagMapping?
    var createMissingTags: Bool?

    static let fields = ["kind", "baseURL", "tenantCode", "username", "password", "oauth", "tagMapping", "createMissingTags"]
    static let mappingFields = TagMapping().entries.map(\.field)
}

/// The UEM connection as the admin API shows it: never a password or secret.
struct UEMIntegrationStatus: Content {
    struct Sync: Content {
        var lastSuccess: Date?
        var lastError: String?
        var lastErrorAt: Date?
        var errors: Int
        var pendingChanges: Int
        var callsMade: Int
        var lastDeviceSync: DeviceSync?
    }

    struct DeviceSync: Content {
        var at: Date
        var seen: Int
        var created: Int
        var deleted: Int
    }

    var kind: String
    var saved: Bool
    var baseURL: String?
    var tenantCode: String?
    var username: String?
    /// `basic`, `oauth`, or `service-account` (the built-in UEM's own account for this server).
    var authentication: String
    var connected: Bool
    var product: String?
    var productVersion: String?
    /// Whether the threat level goes to the UEM's compliance engine as well as tags.
    var complianceSync: Bool
    var tagMapping: TagMapping
    var createMissingTags: Bool
    var sync: Sync
}

/// The outcome of `POST /api/v1/integrations/uem/test`: what works and what an admin must fix.
struct UEMConnectionTest: Content {
    struct Problem: Content {
        var field: String
        var tag: String
        var suggestion: String?
        var message: String
    }

    var ok: Bool
    var product: String?
    var productVersion: String?
    var complianceSync: Bool
    var tagCount: Int
    var mappingProblems: [Problem]
}

struct UEMSyncResult: Content {
    var devicesSeen: Int
    var devicesCreated: Int
    var devicesDeleted: Int
    var uemCalls: Int
}
