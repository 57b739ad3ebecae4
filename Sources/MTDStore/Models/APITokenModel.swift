import FluentKit
import Foundation

/// A bearer token of an admin: session tokens from login and named, scoped API tokens for scripts.
/// Only the SHA-256 of the token is stored.
public final class APITokenModel: Model, @unchecked Sendable {
    public static let schema = "api_tokens"

    @ID(key: .id) public var id: UUID?
    @Parent(key: "admin_id") public var admin: AdminModel
    @Field(key: "token_hash") public var tokenHash: String
    @Field(key: "name") public var name: String
    /// Space-separated: `read`, `write`.
    @Field(key: "scopes") public var scopes: String
    @Field(key: "kind") public var kind: String
    @OptionalField(key: "expires_at") public var expiresAt: Date?
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?

    public init() {}
}
