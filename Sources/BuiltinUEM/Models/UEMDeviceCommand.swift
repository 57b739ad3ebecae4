import Fluent
import Foundation

/// A device command or message queued by the built-in UEM (Lock, EnterpriseWipe, DeviceWipe,
/// SyncDevice, Message). The built-in UEM has no channel to the phone's MDM agent, so commands stay
/// Queued until something reports them delivered; what matters to the MTD is that the UEM accepted
/// and recorded them, and that a wipe takes the device out of its enrolled devices.
final class UEMDeviceCommand: Model, @unchecked Sendable {
    static let schema = "uem_device_commands"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "device_id") var deviceID: Int
    @Field(key: "command") var command: String
    /// Queued, Delivered or Completed.
    @Field(key: "status") var status: String
    /// The message text for Message.
    @OptionalField(key: "detail") var detail: String?
    /// Who asked (the API account).
    @Field(key: "queued_by") var queuedBy: String
    @Field(key: "queued_at") var queuedAt: Date

    init() {}
}
