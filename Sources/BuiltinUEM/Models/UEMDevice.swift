import Fluent
import Foundation

/// An enrolled device, with the DeviceExtended fields the REST API returns.
final class UEMDevice: Model, @unchecked Sendable {
    static let schema = "uem_devices"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "uuid") var uuid: UUID
    @Field(key: "udid") var udid: String
    @OptionalField(key: "serial_number") var serialNumber: String?
    @OptionalField(key: "mac_address") var macAddress: String?
    @OptionalField(key: "imei") var imei: String?
    @Field(key: "friendly_name") var friendlyName: String
    @OptionalField(key: "model") var model: String?
    /// `Apple` or `Android`, as Workspace ONE names them.
    @Field(key: "platform") var platform: String
    @OptionalField(key: "operating_system") var operatingSystem: String?
    /// `C` corporate dedicated, `E` employee owned, `S` corporate shared.
    @Field(key: "ownership") var ownership: String
    @Field(key: "organization_group_id") var organizationGroupID: Int
    @OptionalField(key: "enrollment_user_id") var enrollmentUserID: Int?
    @Field(key: "user_name") var userName: String
    @OptionalField(key: "user_email") var userEmail: String?
    @Field(key: "enrollment_status") var enrollmentStatus: String
    @OptionalField(key: "last_seen") var lastSeen: Date?
    @Field(key: "compliance_status") var complianceStatus: String
    @Field(key: "compromised") var compromised: Bool
    /// The threat level an MTD reported (NONE, LOW, MEDIUM, HIGH), for compliance rules.
    @OptionalField(key: "mtd_threat_level") var mtdThreatLevel: String?
    @Timestamp(key: "enrolled_on", on: .create) var enrolledOn: Date?

    init() {}
}
