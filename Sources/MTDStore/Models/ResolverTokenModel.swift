import FluentKit
import Foundation

/// A device's resolver token (see M020). Stored as is, unlike credentials: it grants nothing but
/// attribution of DNS queries, and the UEM has to render it into the device's DNS profile.
public final class ResolverTokenModel: Model, @unchecked Sendable {
    public static let schema = "resolver_tokens"

    @ID(key: .id) public var id: UUID?
    @Field(key: "token") public var token: String
    @Field(key: "device_id") public var deviceID: UUID
    @Field(key: "enterprise_id") public var enterpriseID: UUID
    @Field(key: "created_at") public var createdAt: Date
    @OptionalField(key: "revoked_at") public var revokedAt: Date?
    /// When the token last carried a query, to the minute (M021).
    @OptionalField(key: "last_query_at") public var lastQueryAt: Date?

    public init() {}

    public init(token: String, deviceID: UUID, enterpriseID: UUID, createdAt: Date) {
        id = UUID()
        self.token = token
        self.deviceID = deviceID
        self.enterpriseID = enterpriseID
        self.createdAt = createdAt
    }
}
