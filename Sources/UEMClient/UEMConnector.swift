import Foundation
import MTDCore

/// What the MTD needs from a UEM. The Workspace ONE REST client implements it for a real tenant and
/// for the built-in UEM alike.
public protocol UEMConnector: Sendable {
    /// One page (0-based) of enrolled devices.
    func devices(page: Int, pageSize: Int) async throws(UEMClientError) -> UEMDevicePage
    /// One enrolled device found by an identity, or nil when the UEM has none: what activation asks
    /// so that a phone enrolled a moment ago is linked before device sync comes round.
    func device(_ lookup: UEMDeviceLookup) async throws(UEMClientError) -> UEMDeviceRecord?
    func tags() async throws(UEMClientError) -> [UEMTagInfo]
    func createTag(named name: String) async throws(UEMClientError) -> Int
    func addDevices(_ deviceIDs: [Int], toTag tagID: Int) async throws(UEMClientError) -> UEMBulkResult
    func removeDevices(_ deviceIDs: [Int], fromTag tagID: Int) async throws(UEMClientError) -> UEMBulkResult
    /// Numeric ids of the devices that carry the tag, as the UEM sees them now (drift repair).
    func devices(withTag tagID: Int) async throws(UEMClientError) -> [Int]
    /// Product, version and OpenMTD extensions; a call that also proves the credentials work.
    func systemInfo() async throws(UEMClientError) -> UEMSystemInfo
    /// Compliance sync (UEMs with the `MTDThreatLevel` capability): the MTD's threat level per device.
    func reportThreatLevel(_ level: UEMThreatLevel, devices deviceIDs: [Int]) async throws(UEMClientError) -> UEMBulkResult
    /// A device command (`POST /mdm/devices/{id}/commands?command=…`): accepted means queued by the UEM.
    func sendCommand(_ command: UEMDeviceCommand, device deviceID: Int) async throws(UEMClientError)
    /// A push message shown on the device (`POST /mdm/devices/{id}/messages/push`).
    func sendMessage(_ text: String, device deviceID: Int) async throws(UEMClientError)
    /// The names of the tags the device carries (`GET /mdm/devices/{id}/tags`).
    func tagNames(ofDevice deviceID: Int) async throws(UEMClientError) -> [String]
    /// Numeric ids of a smart group's member devices (`GET /mdm/smartgroups/{id}/devices`).
    func members(ofSmartGroup groupID: Int) async throws(UEMClientError) -> [Int]
}

/// The Workspace ONE device commands automations use; raw values are the API's `command=` values.
public enum UEMDeviceCommand: String, Sendable, CaseIterable, Codable {
    case lock = "Lock"
    case enterpriseWipe = "EnterpriseWipe"
    case deviceWipe = "DeviceWipe"
    case syncDevice = "SyncDevice"

    /// Wipes remove data or the device's management: they need an owner and a confirmation.
    public var isDestructive: Bool { self == .enterpriseWipe || self == .deviceWipe }
}

public struct UEMSystemInfo: Sendable, Equatable {
    public var product: String
    public var version: String
    public var capabilities: Set<String>

    public init(product: String, version: String, capabilities: Set<String>) {
        self.product = product
        self.version = version
        self.capabilities = capabilities
    }

    public var supportsThreatLevel: Bool { capabilities.contains("MTDThreatLevel") }
}

/// The device threat level reported for compliance; `unknown` clears a level reported before.
public enum UEMThreatLevel: String, Sendable, CaseIterable, Codable {
    case none = "None"
    case low = "Low"
    case medium = "Medium"
    case high = "High"
    case unknown = "Unknown"

    /// Pure: what an activated device's security status means for compliance; others are unknown.
    public init(activation: ActivationStatus, security: SecurityStatus) {
        guard activation == .activated else {
            self = .unknown
            return
        }
        switch security {
        case .secure: self = .none
        case .threatsLow: self = .low
        case .threatsMedium: self = .medium
        case .threatsHigh: self = .high
        }
    }
}

/// An identity a UEM finds a device by: its UUID (the `{DeviceUuid}` lookup value), UDID, serial
/// number or IMEI.
public enum UEMDeviceLookup: Sendable, Equatable, CustomStringConvertible {
    case uuid(String)
    case udid(String)
    case serialNumber(String)
    case imei(String)

    public var description: String {
        switch self {
        case .uuid(let value): "UUID \(value)"
        case .udid(let value): "UDID \(value)"
        case .serialNumber(let value): "serial number \(value)"
        case .imei(let value): "IMEI \(value)"
        }
    }
}

public struct UEMDeviceRecord: Sendable, Equatable {
    public var id: Int
    public var uuid: String
    public var udid: String
    public var serialNumber: String?
    public var email: String?
    public var userName: String?
    public var platform: String
    public var operatingSystem: String?
    public var model: String?

    public init(id: Int, uuid: String, udid: String, serialNumber: String?, email: String?, userName: String?, platform: String, operatingSystem: String?, model: String?) {
        self.id = id
        self.uuid = uuid
        self.udid = udid
        self.serialNumber = serialNumber
        self.email = email
        self.userName = userName
        self.platform = platform
        self.operatingSystem = operatingSystem
        self.model = model
    }
}

public struct UEMDevicePage: Sendable {
    public var devices: [UEMDeviceRecord]
    public var total: Int
}

public struct UEMTagInfo: Sendable, Equatable {
    public var id: Int
    public var name: String

    public init(id: Int, name: String) {
        self.id = id
        self.name = name
    }
}

/// Per-item outcome of a bulk tag call: ids the UEM accepted, and ids it refused with why.
public struct UEMBulkResult: Sendable, Equatable {
    public var accepted: [Int]
    public var faults: [Int: String]

    public init(accepted: [Int], faults: [Int: String]) {
        self.accepted = accepted
        self.faults = faults
    }
}

/// Why a UEM call failed, in terms an admin can act on.
public enum UEMClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 401: the account's username or password is wrong.
    case credentials(String)
    /// 403: wrong tenant code, or the account's role lacks a permission.
    case forbidden(String)
    case notFound(String)
    /// 429 or 5xx after retries, or no answer at all.
    case unavailable(String)
    case unexpected(String)
    /// The egress policy refused the address before any connection was made.
    case refused(String)

    public var description: String {
        switch self {
        case .credentials(let message): "the UEM rejected the API account's credentials: \(message)"
        case .forbidden(let message): "the UEM refused the call (tenant code or role permissions): \(message)"
        case .notFound(let message): "not found in the UEM: \(message)"
        case .unavailable(let message): "the UEM is unavailable: \(message)"
        case .unexpected(let message): "unexpected answer from the UEM: \(message)"
        case .refused(let message): message
        }
    }
}
