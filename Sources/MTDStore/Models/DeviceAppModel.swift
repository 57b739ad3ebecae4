import FluentKit
import Foundation

/// One installed app of one device.
public final class DeviceAppModel: Model, @unchecked Sendable {
    public static let schema = "device_apps"

    @ID(key: .id) public var id: UUID?
    @Parent(key: "device_id") public var device: DeviceModel
    @Field(key: "enterprise_id") public var enterpriseID: UUID
    @Field(key: "app_id") public var appID: String
    @OptionalField(key: "name") public var name: String?
    @OptionalField(key: "version") public var version: String?
    @OptionalField(key: "source") public var source: String?
    @OptionalField(key: "signer_sha1") public var signerSha1: String?
    @OptionalField(key: "signer_sha256") public var signerSha256: String?
    @OptionalField(key: "sha256") public var sha256: String?
    /// JSON array of permission names.
    @OptionalField(key: "permissions") public var permissions: String?

    public init() {}
}
