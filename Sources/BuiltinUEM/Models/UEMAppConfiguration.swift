import Fluent
import Foundation

/// Configuration the UEM delivers to apps on devices: Hub custom settings (a JSON document Intelligent
/// Hub hands to its embedded components, e.g. `mtdSettings`) or a managed app config (key-value pairs
/// for one app). Values may hold lookup values such as `{DeviceUid}`, resolved per device.
final class UEMAppConfiguration: Model, @unchecked Sendable {
    static let schema = "uem_app_configurations"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "uuid") var uuid: UUID
    @Field(key: "name") var name: String
    /// `HubCustomSettings` or `ManagedAppConfig`.
    @Field(key: "kind") var kind: String
    /// Bundle id or package name (managed app config only).
    @OptionalField(key: "application") var application: String?
    @Field(key: "platform") var platform: String
    @Field(key: "organization_group_id") var organizationGroupID: Int
    /// JSON array of smart group ids.
    @Field(key: "assigned_smart_groups") var assignedSmartGroups: String
    /// JSON: an object (Hub custom settings) or an object of string values (managed app config).
    @Field(key: "settings") var settings: String

    init() {}
}
