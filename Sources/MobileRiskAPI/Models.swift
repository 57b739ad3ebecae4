import FluentKit
import Foundation

/// An application key: what a SIEM connector holds to get access tokens. Only its SHA-256 is
/// stored; the key itself is shown once, when it is created.
public final class ApplicationKeyModel: Model, @unchecked Sendable {
    public static let schema = "application_keys"

    @ID(key: .id) public var id: UUID?
    @Field(key: "enterprise_id") public var enterpriseID: UUID
    @Field(key: "name") public var name: String
    /// Space-separated `MRAScope` values.
    @Field(key: "scopes") public var scopes: String
    @Field(key: "key_hash") public var keyHash: String
    /// Who created it (an admin's e-mail).
    @Field(key: "created_by") public var createdBy: String
    @Field(key: "created_at") public var createdAt: Date
    @Field(key: "expires_at") public var expiresAt: Date
    @OptionalField(key: "revoked_at") public var revokedAt: Date?
    @OptionalField(key: "last_used_at") public var lastUsedAt: Date?
    /// The last expiry warning sent, in days before expiry (30, 21, …), so each goes out once.
    @OptionalField(key: "warned_days") public var warnedDays: Int?

    public init() {}

    var scopeSet: Set<MRAScope> { MRAScope.parse(scopes) }
}

/// An access token issued for an application key by `POST /oauth2/token`. Stored as a hash in the
/// database, so every replica accepts it.
public final class AccessTokenModel: Model, @unchecked Sendable {
    public static let schema = "mra_access_tokens"

    @ID(key: .id) public var id: UUID?
    @Field(key: "key_id") public var keyID: UUID
    @Field(key: "enterprise_id") public var enterpriseID: UUID
    @Field(key: "token_hash") public var tokenHash: String
    @Field(key: "scopes") public var scopes: String
    @Field(key: "created_at") public var createdAt: Date
    @Field(key: "expires_at") public var expiresAt: Date

    public init() {}
}
