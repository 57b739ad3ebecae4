import FluentKit
import Foundation

/// A console and API user of one enterprise.
public final class AdminModel: Model, @unchecked Sendable {
    public static let schema = "admins"

    @ID(key: .id) public var id: UUID?
    @Parent(key: "enterprise_id") public var enterprise: EnterpriseModel
    @Field(key: "email") public var email: String
    /// bcrypt.
    @Field(key: "password_hash") public var passwordHash: String
    /// owner, analyst or read-only.
    @Field(key: "role") public var role: String
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?

    public init() {}

    public init(enterpriseID: UUID, email: String, passwordHash: String, role: String) {
        self.$enterprise.id = enterpriseID
        self.email = email
        self.passwordHash = passwordHash
        self.role = role
    }
}
