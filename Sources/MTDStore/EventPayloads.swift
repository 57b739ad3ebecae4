import Foundation
import MTDCore

/// Event type blocks in the Lookout Mobile Risk API v2 shape (snake_case), so that SIEM connectors
/// written for Lookout read them unchanged. Fields Lookout does not have are additions, never renames.
public enum EventType: String, Codable, Sendable, CaseIterable {
    case device = "DEVICE"
    case threat = "THREAT"
    case audit = "AUDIT"
}

public enum ChangeType: String, Codable, Sendable {
    case created = "CREATED"
    case updated = "UPDATED"
    case deleted = "DELETED"
}

public struct EventParty: Codable, Sendable, Equatable {
    /// DEVICE, ADMIN, SYSTEM, ENTERPRISE, THREAT
    public var type: String
    public var guid: String?

    public init(type: String, guid: String?) {
        self.type = type
        self.guid = guid
    }

    public static let system = EventParty(type: "SYSTEM", guid: nil)
}

public struct DevicePayload: Codable, Sendable, Equatable {
    public struct Info: Codable, Sendable, Equatable {
        public var external_id: String?
        public var udid: String?
        public var email: String?
        public var mdm_type: String?
    }

    public struct Status: Codable, Sendable, Equatable {
        public var security_status: String
        public var activation_status: String
        public var protection_status: String
        public var connection_status: String
    }

    public struct Hardware: Codable, Sendable, Equatable {
        public var manufacturer: String?
        public var model: String?
    }

    public struct Software: Codable, Sendable, Equatable {
        public var os_version: String?
        public var security_patch_level: String?
    }

    public struct Client: Codable, Sendable, Equatable {
        public var package_version: String?
        public var mode: String?
    }

    /// Lookout's protection status from ours: PROTECTED (activated and checking in), DISCONNECTED
    /// (activated, gone quiet), UNPROTECTED (not activated).
    public static func protectionStatus(_ activation: ActivationStatus, _ connection: ConnectionStatus) -> String {
        guard activation == .activated else { return "UNPROTECTED" }
        return connection == .connected ? "PROTECTED" : "DISCONNECTED"
    }

    public var guid: String
    public var platform: String
    public var info: Info
    public var status: Status
    public var hardware: Hardware
    public var software: Software
    public var client: Client
    /// Which attributes changed in this event (an OpenMTD addition).
    public var changed_attributes: [String]?

    public init(_ device: DeviceModel, changed: [String]? = nil) {
        guid = device.id?.uuidString.lowercased() ?? ""
        platform = device.platform
        info = Info(external_id: device.externalID, udid: device.udid, email: device.email, mdm_type: device.mdm)
        status = Status(
            security_status: device.securityStatus.rawValue, activation_status: device.activationStatus.rawValue,
            protection_status: Self.protectionStatus(device.activationStatus, device.connectionStatus),
            connection_status: device.connectionStatus.rawValue)
        hardware = Hardware(manufacturer: device.manufacturer, model: device.model)
        software = Software(os_version: device.osVersion, security_patch_level: device.securityPatchLevel)
        client = Client(package_version: device.agentVersion, mode: device.mode)
        changed_attributes = changed
    }
}

public struct ThreatPayload: Codable, Sendable, Equatable {
    public struct Assessment: Codable, Sendable, Equatable {
        public var classification: String
    }

    public var guid: String
    public var device_guid: String
    public var status: String
    public var severity: String
    public var type: String
    public var classifications: [String]
    public var assessments: [Assessment]
    public var subject: String
    public var details: JSONValue
    public var status_reason: String?

    public init(_ threat: ThreatModel) {
        guid = threat.id?.uuidString.lowercased() ?? ""
        device_guid = threat.$device.id.uuidString.lowercased()
        status = threat.status.rawValue
        severity = threat.severity.rawValue
        type = threat.type
        classifications = [threat.classification]
        assessments = [Assessment(classification: threat.classification)]
        subject = threat.subject
        details = JSONValue(jsonText: threat.evidence)
        status_reason = threat.statusReason
    }
}

public struct AuditPayload: Codable, Sendable, Equatable {
    public struct AttributeChange: Codable, Sendable, Equatable {
        public var name: String
        public var from: String?
        public var to: String?

        public init(name: String, from: String? = nil, to: String? = nil) {
            self.name = name
            self.from = from
            self.to = to
        }
    }

    /// What was changed: DEVICE, THREAT, CLASSIFICATION_POLICY, ENROLLMENT_CODE, ADMIN, API_TOKEN, ADMIN_LOGIN, ACTIVATION.
    public var type: String
    public var attribute_changes: [AttributeChange]

    public init(type: String, changes: [AttributeChange]) {
        self.type = type
        attribute_changes = changes
    }
}
