import Fluent
import Foundation

/// An app the UEM knows is on a device (Workspace ONE learns them from the device's MDM sample;
/// here the enrollment tooling or a simulator reports them).
final class UEMDeviceApp: Model, @unchecked Sendable {
    static let schema = "uem_device_apps"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "device_id") var deviceID: Int
    @Field(key: "application_identifier") var applicationIdentifier: String
    @Field(key: "name") var name: String
    @OptionalField(key: "version") var version: String?
    /// `Managed` when the UEM installed it, `Public` otherwise.
    @Field(key: "type") var type: String
    @Field(key: "reported_at") var reportedAt: Date

    init() {}
}
