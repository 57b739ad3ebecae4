import FluentKit
import Foundation

/// The global enrollment code of an enterprise, as used in the Hub's `mtdSettings` and in the
/// `GLOBAL_ENROLLMENT_CODE` app config. Kept in clear: admins copy it into UEM configuration.
public final class EnrollmentCodeModel: Model, @unchecked Sendable {
    public static let schema = "enrollment_codes"

    @ID(key: .id) public var id: UUID?
    @Parent(key: "enterprise_id") public var enterprise: EnterpriseModel
    @Field(key: "code") public var code: String
    @OptionalField(key: "expires_at") public var expiresAt: Date?
    @OptionalField(key: "revoked_at") public var revokedAt: Date?
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?

    public init() {}

    public init(enterpriseID: UUID, code: String, expiresAt: Date?) {
        self.$enterprise.id = enterpriseID
        self.code = code
        self.expiresAt = expiresAt
    }

    public func isUsable(at now: Date) -> Bool {
        revokedAt == nil && (expiresAt.map { $0 > now } ?? true)
    }
}
