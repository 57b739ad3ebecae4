import Fluent
import Foundation

/// A device command or message queued by the built-in UEM (Lock, EnterpriseWipe, DeviceWipe,
/// SyncDevice, Message). Queued until the device's MDM agent fetches its queue (Delivered), then
/// Completed when it reports the command done (`UEMCommandLifecycle`); a wipe takes the device out
/// of the enrolled devices when queued, and unenrolls it when completed.
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
    @OptionalField(key: "delivered_at") var deliveredAt: Date?
    @OptionalField(key: "completed_at") var completedAt: Date?

    init() {}
}
