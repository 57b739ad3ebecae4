import Fluent
import Foundation

/// An event notification target (U012). The password is kept as given: the UEM must send it. The
/// database is the server's trust boundary, as for the UEM connection's own secrets.
final class UEMNotificationTarget: Model, @unchecked Sendable {
    static let schema = "uem_notification_targets"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "name") var name: String
    @Field(key: "url") var url: String
    @Field(key: "username") var username: String
    @Field(key: "password") var password: String
    /// The id of the last `uem_events` row this target has (or was created after).
    @Field(key: "delivered_through") var deliveredThrough: Int
    @OptionalField(key: "last_error") var lastError: String?
    @OptionalField(key: "last_delivered_at") var lastDeliveredAt: Date?

    init() {}

    init(name: String, url: String, username: String, password: String, deliveredThrough: Int) {
        self.name = name
        self.url = url
        self.username = username
        self.password = password
        self.deliveredThrough = deliveredThrough
    }
}
