import Foundation
import Vapor

/// `POST /api/v1/integrations/uem/notification-credential`: what to type into the UEM's event
/// notification target (Workspace ONE: Groups & Settings > All Settings > System > Advanced > API >
/// Event Notifications). The password is shown here only.
struct UEMNotificationCredential: Content {
    var url: String
    var username: String
    var password: String
    var format: String
}

/// The answer to one notification: what it was and what the MTD did about its device.
struct UEMNotificationReceipt: Content {
    var eventType: String?
    /// LINKED (the UEM has the device: linked and up to date), REMOVED (it left the UEM: DELETED
    /// in the MTD), UNKNOWN (neither knows it, or no UEM is connected), IGNORED (no device named).
    var outcome: String
}
