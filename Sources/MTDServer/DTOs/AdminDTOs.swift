import Foundation
import MTDCore
import MTDStore
import Vapor

struct LoginRequest: Content {
    var email: String
    var password: String
}

struct TokenResponse: Content {
    var id: String
    var token: String
    var name: String
    var scopes: [String]
    var expiresAt: Date?
    var role: String
}

struct CreateTokenRequest: Content {
    var name: String
    var scopes: [String]?
    var expiresInDays: Int?
}

struct TokenSummary: Content {
    var id: String
    var name: String
    var scopes: [String]
    var kind: String
    var createdAt: Date?
    var expiresAt: Date?
}

struct CreateAdminRequest: Content {
    var email: String
    var password: String
    var role: String
}

struct AdminSummary: Content {
    var id: String
    var email: String
    var role: String
}

struct Page<Item: Content>: Content {
    var items: [Item]
    var page: Int
    var pageSize: Int
    var total: Int
}

struct DeviceSummary: Content {
    var id: String
    var externalId: String?
    var udid: String?
    var email: String?
    var platform: String
    var mode: String?
    var osVersion: String?
    var model: String?
    var activationStatus: String
    var connectionStatus: String
    var securityStatus: String
    var lastCheckInAt: Date?
    var policyVersion: Int?
    /// The device in the UEM it was last linked with; absent when not linked.
    var uem: UEMLink?

    struct UEMLink: Content {
        /// The UEM's numeric device id.
        var deviceId: Int
        /// The UEM's device UUID.
        var uuid: String?
        /// Which UEM connection the link belongs to (`builtin`, or `workspace-one <URL> <tenant code>`).
        var connection: String
    }

    init(_ device: DeviceModel) {
        id = device.id?.uuidString.lowercased() ?? ""
        externalId = device.externalID
        udid = device.udid
        email = device.email
        platform = device.platform
        mode = device.mode
        osVersion = device.osVersion
        model = device.model
        activationStatus = device.activationStatus.rawValue
        connectionStatus = device.connectionStatus.rawValue
        securityStatus = device.securityStatus.rawValue
        lastCheckInAt = device.lastCheckInAt
        policyVersion = device.policyVersion
        if let uemID = device.uemDeviceID, let connection = device.uemConnection {
            uem = UEMLink(deviceId: uemID, uuid: device.externalID, connection: connection)
        }
    }
}

struct ThreatSummary: Content {
    var id: String
    var deviceId: String
    var classification: String
    var type: String
    var severity: String
    var status: String
    var subject: String
    var evidence: JSONValue
    var detectedAt: Date
    var resolvedAt: Date?
    var statusReason: String?
    var history: [EventSummary]?

    init(_ threat: ThreatModel, history: [EventSummary]? = nil) {
        id = threat.id?.uuidString.lowercased() ?? ""
        deviceId = threat.$device.id.uuidString.lowercased()
        classification = threat.classification
        type = threat.type
        severity = threat.severity.rawValue
        status = threat.status.rawValue
        subject = threat.subject
        evidence = JSONValue(jsonText: threat.evidence)
        detectedAt = threat.detectedAt
        resolvedAt = threat.resolvedAt
        statusReason = threat.statusReason
        self.history = history
    }
}

struct AppSummary: Content {
    var id: String
    var name: String?
    var version: String?
    var source: String?
    var signerSha1: String?
    var signerSha256: String?
    var sha256: String?
}

struct DeviceDetail: Content {
    var device: DeviceSummary
    var threats: [ThreatSummary]
    var apps: [AppSummary]
    var lastFacts: JSONValue?
}

/// An event in the Lookout v2 envelope: `{id, enterprise_guid, created_time, type, change_type, actor, target, device|threat|audit}`.
struct EventSummary: Content {
    var id: String
    var enterprise_guid: String
    var created_time: Date
    var type: String
    var change_type: String
    var actor: EventParty
    var target: EventParty
    var device: JSONValue?
    var threat: JSONValue?
    var audit: JSONValue?

    init(_ event: EventModel) {
        id = "\(event.id ?? 0)"
        enterprise_guid = event.enterpriseID.uuidString.lowercased()
        created_time = event.createdAt
        type = event.type
        change_type = event.changeType
        actor = EventParty(type: event.actorType, guid: event.actorID)
        target = EventParty(type: event.targetType, guid: event.targetID)
        let payload = JSONValue(jsonText: event.payload)
        switch event.type {
        case EventType.device.rawValue: device = payload
        case EventType.threat.rawValue: threat = payload
        default: audit = payload
        }
    }
}

struct EventPage: Content {
    var events: [EventSummary]
    /// Pass as `after` to continue.
    var last: Int
}

struct ThreatActionRequest: Content {
    var reason: String
}

struct PolicyResponse: Content {
    var version: Int
    var policy: Policy
}

struct PolicyVersionSummary: Content {
    var version: Int
    var createdBy: String?
    var createdAt: Date?
}

struct EnrollmentCodeSummary: Content {
    var id: String
    var code: String
    var expiresAt: Date?
    var revokedAt: Date?
    var createdAt: Date?
    var usable: Bool
    /// Copy-ready Hub custom settings for EMBEDDED agents.
    var hubCustomSettings: String

    init(_ model: EnrollmentCodeModel, now: Date = Date()) {
        id = model.id?.uuidString.lowercased() ?? ""
        code = model.code
        expiresAt = model.expiresAt
        revokedAt = model.revokedAt
        createdAt = model.createdAt
        usable = model.isUsable(at: now)
        hubCustomSettings = #"{"mtdSettings":{"isEnabled":true,"enrollmentCode":"\#(model.code)"}}"#
    }
}

struct CreateEnrollmentCodeRequest: Content {
    var expiresAt: Date?

    init(expiresAt: Date?) {
        self.expiresAt = expiresAt
    }

    /// Read by hand so that a date that is not RFC 3339 names the field (the JSON decoder's own
    /// date error loses the path).
    init(from decoder: any Decoder) throws {
        enum Keys: String, CodingKey { case expiresAt }
        let container = try decoder.container(keyedBy: Keys.self)
        guard let text = try container.decodeIfPresent(String.self, forKey: .expiresAt) else {
            expiresAt = nil
            return
        }
        guard let date = Timestamp.dateTime(text) else {
            throw DocumentError(path: "$.expiresAt", message: "\"\(text.prefix(40))\" is not a date-time; use RFC 3339 such as 2027-01-31T00:00:00Z")
        }
        expiresAt = date
    }
}
