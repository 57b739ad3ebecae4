/// One device check-in, version 1 (`contracts/checkin-v1.schema.json`). An absent optional field means
/// "not observed", never "false"; unknown fields are ignored so that newer agents can talk to older servers.
public struct CheckIn: Codable, Sendable, Equatable {
    public var schemaVersion: Int
    public var agent: AgentInfo
    public var device: DeviceInfo
    public var posture: Posture?
    public var apps: AppInventory?
    public var network: NetworkObservation?
    public var activity: [NetworkActivity]?
    public var content: [ContentVisit]?
    public var diagnostics: Diagnostics?

    public init(
        schemaVersion: Int = 1, agent: AgentInfo, device: DeviceInfo, posture: Posture? = nil,
        apps: AppInventory? = nil, network: NetworkObservation? = nil, activity: [NetworkActivity]? = nil,
        content: [ContentVisit]? = nil, diagnostics: Diagnostics? = nil
    ) {
        self.schemaVersion = schemaVersion
        self.agent = agent
        self.device = device
        self.posture = posture
        self.apps = apps
        self.network = network
        self.activity = activity
        self.content = content
        self.diagnostics = diagnostics
    }
}

public struct AgentInfo: Codable, Sendable, Equatable {
    public var mode: DeploymentMode
    public var version: String?
    /// RFC 3339 date-time, as the agent's clock saw it.
    public var sentAt: String?

    public init(mode: DeploymentMode, version: String? = nil, sentAt: String? = nil) {
        self.mode = mode
        self.version = version
        self.sentAt = sentAt
    }
}

public enum Platform: String, Codable, Sendable, CaseIterable {
    case ios = "IOS"
    case android = "ANDROID"
}

public struct DeviceInfo: Codable, Sendable, Equatable {
    public var platform: Platform
    public var osVersion: String
    public var osBuild: String?
    /// Android security patch level, `YYYY-MM-DD`.
    public var securityPatchLevel: String?
    public var apiLevel: Int?
    public var manufacturer: String?
    public var model: String?

    public init(
        platform: Platform, osVersion: String, osBuild: String? = nil, securityPatchLevel: String? = nil,
        apiLevel: Int? = nil, manufacturer: String? = nil, model: String? = nil
    ) {
        self.platform = platform
        self.osVersion = osVersion
        self.osBuild = osBuild
        self.securityPatchLevel = securityPatchLevel
        self.apiLevel = apiLevel
        self.manufacturer = manufacturer
        self.model = model
    }
}

public struct Posture: Codable, Sendable, Equatable {
    public var passcodeSet: Bool?
    public var storageEncrypted: Bool?
    public var compromiseIndicators: [String]?
    public var developerModeEnabled: Bool?
    public var usbDebuggingEnabled: Bool?
    public var unknownSourcesEnabled: Bool?
    public var vpnPermissionGranted: Bool?
    public var contentProtectionEnabled: Bool?
    public var trustedSigningIdentities: [SigningIdentity]?

    public init(
        passcodeSet: Bool? = nil, storageEncrypted: Bool? = nil, compromiseIndicators: [String]? = nil,
        developerModeEnabled: Bool? = nil, usbDebuggingEnabled: Bool? = nil, unknownSourcesEnabled: Bool? = nil,
        vpnPermissionGranted: Bool? = nil, contentProtectionEnabled: Bool? = nil,
        trustedSigningIdentities: [SigningIdentity]? = nil
    ) {
        self.passcodeSet = passcodeSet
        self.storageEncrypted = storageEncrypted
        self.compromiseIndicators = compromiseIndicators
        self.developerModeEnabled = developerModeEnabled
        self.usbDebuggingEnabled = usbDebuggingEnabled
        self.unknownSourcesEnabled = unknownSourcesEnabled
        self.vpnPermissionGranted = vpnPermissionGranted
        self.contentProtectionEnabled = contentProtectionEnabled
        self.trustedSigningIdentities = trustedSigningIdentities
    }
}

public struct SigningIdentity: Codable, Sendable, Equatable, Hashable {
    public var name: String
    public var teamId: String?

    public init(name: String, teamId: String? = nil) {
        self.name = name
        self.teamId = teamId
    }
}
