import FluentKit
import Foundation

/// Every version of an enterprise's policy; the highest version is in force.
public final class PolicyVersionModel: Model, @unchecked Sendable {
    public static let schema = "policy_versions"

    @ID(key: .id) public var id: UUID?
    @Field(key: "enterprise_id") public var enterpriseID: UUID
    @Field(key: "version") public var version: Int
    /// The policy document, JSON.
    @Field(key: "document") public var document: String
    @OptionalField(key: "created_by") public var createdBy: String?
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?

    public init() {}
}
