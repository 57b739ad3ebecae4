import Foundation

/// A device to enroll in a UEM that accepts enrollment over REST (the built-in UEM; Workspace ONE
/// enrolls through its agent, so this is an OpenMTD extension).
public struct UEMEnrollment: Sendable, Equatable, Codable {
    public var udid: String
    /// `Apple` or `Android`.
    public var platform: String
    public var userName: String
    public var email: String?
    public var serialNumber: String?
    public var model: String?
    public var operatingSystem: String?
    /// `C` corporate, `E` employee owned, `S` shared.
    public var ownership: String?
    public var organizationGroupID: Int?

    public init(udid: String, platform: String, userName: String, email: String? = nil, serialNumber: String? = nil, model: String? = nil,
                operatingSystem: String? = nil, ownership: String? = nil, organizationGroupID: Int? = nil) {
        self.udid = udid
        self.platform = platform
        self.userName = userName
        self.email = email
        self.serialNumber = serialNumber
        self.model = model
        self.operatingSystem = operatingSystem
        self.ownership = ownership
        self.organizationGroupID = organizationGroupID
    }
}

extension WorkspaceOneClient {
    /// Enrolls (or re-enrolls, by UDID) a device; returns it as the UEM now lists it.
    public func enroll(_ enrollment: UEMEnrollment) async throws(UEMClientError) -> UEMDeviceRecord {
        var body: [String: Any] = ["Udid": enrollment.udid, "Platform": enrollment.platform, "UserName": enrollment.userName]
        if let value = enrollment.email { body["UserEmailAddress"] = value }
        if let value = enrollment.serialNumber { body["SerialNumber"] = value }
        if let value = enrollment.model { body["Model"] = value }
        if let value = enrollment.operatingSystem { body["OperatingSystem"] = value }
        if let value = enrollment.ownership { body["Ownership"] = value }
        if let value = enrollment.organizationGroupID { body["LocationGroupId"] = value }
        guard let data = try await call(.POST, "/mdm/devices/enroll", json: body) else { throw .unexpected("enroll answered without a body") }
        let device: DeviceJSON = try decode(data)
        return device.record
    }
}
