import Fluent
import Foundation

/// A profile (e.g. "Workspace ONE Tunnel", Wi-Fi, email) assigned to smart groups, with exclusions:
/// a device gets it when it is in an assigned group and in no excluded group.
final class UEMProfile: Model, @unchecked Sendable {
    static let schema = "uem_profiles"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "uuid") var uuid: UUID
    @Field(key: "name") var name: String
    @Field(key: "platform") var platform: String
    @Field(key: "organization_group_id") var organizationGroupID: Int
    /// JSON arrays of smart group ids.
    @Field(key: "assigned_smart_groups") var assignedSmartGroups: String
    @Field(key: "excluded_smart_groups") var excludedSmartGroups: String
    /// A "DNS settings" profile's payload (`UEMDNSSettings` as JSON, U011); nil for other profiles.
    @OptionalField(key: "dns_settings") var dnsSettings: String?

    init() {}
}

/// Which profiles are installed on which device, so membership changes produce install and remove events.
final class UEMInstalledProfile: Model, @unchecked Sendable {
    static let schema = "uem_installed_profiles"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "device_id") var deviceID: Int
    @Field(key: "profile_id") var profileID: Int
    @Field(key: "installed_at") var installedAt: Date

    init() {}

    init(deviceID: Int, profileID: Int, installedAt: Date) {
        self.deviceID = deviceID
        self.profileID = profileID
        self.installedAt = installedAt
    }
}

/// The UEM's own event trail: profile installs and removals, tag changes, enrollments.
final class UEMEvent: Model, @unchecked Sendable {
    static let schema = "uem_events"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "event_type") var eventType: String
    @Field(key: "device_id") var deviceID: Int
    @OptionalField(key: "detail") var detail: String?
    @Field(key: "event_time") var eventTime: Date

    init() {}

    init(eventType: String, deviceID: Int, detail: String?, eventTime: Date) {
        self.eventType = eventType
        self.deviceID = deviceID
        self.detail = detail
        self.eventTime = eventTime
    }
}
