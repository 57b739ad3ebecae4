import FluentKit
import Foundation

/// An enterprise's event-notification credential (M024): the UEM sends the enterprise id as the
/// user name and this secret as the password.
public final class UEMNotificationCredentialModel: Model, @unchecked Sendable {
    public static let schema = "uem_notification_credentials"

    @ID(key: .id) public var id: UUID?
    @Field(key: "enterprise_id") public var enterpriseID: UUID
    @Field(key: "password_hash") public var passwordHash: String
    @Field(key: "created_at") public var createdAt: Date
    @OptionalField(key: "last_used_at") public var lastUsedAt: Date?

    public init() {}

    public init(enterpriseID: UUID, passwordHash: String, createdAt: Date) {
        self.enterpriseID = enterpriseID
        self.passwordHash = passwordHash
        self.createdAt = createdAt
    }
}
