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

struct MRA001_CreateApplicationKeys: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ApplicationKeyModel.schema)
            .id()
            .field("enterprise_id", .uuid, .required)
            .field("name", .string, .required)
            .field("scopes", .string, .required)
            .field("key_hash", .string, .required)
            .field("created_by", .string, .required)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .field("revoked_at", .datetime)
            .field("last_used_at", .datetime)
            .field("warned_days", .int)
            .unique(on: "key_hash")
            .create()
        try await database.schema(AccessTokenModel.schema)
            .id()
            .field("key_id", .uuid, .required, .references(ApplicationKeyModel.schema, .id, onDelete: .cascade))
            .field("enterprise_id", .uuid, .required)
            .field("token_hash", .string, .required)
            .field("scopes", .string, .required)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .unique(on: "token_hash")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(AccessTokenModel.schema).delete()
        try await database.schema(ApplicationKeyModel.schema).delete()
    }
}
