import FluentKit
import Foundation

/// An enterprise's UEM connection as an admin saved it: the built-in UEM, or a Workspace ONE tenant
/// with Basic or OAuth credentials, and the tag mapping. Secrets are stored as given: the database
/// is the server's trust boundary (its file or role must be protected like the server's own).
public final class UEMIntegrationModel: Model, @unchecked Sendable {
    public static let schema = "uem_integrations"

    @ID(key: .id) public var id: UUID?
    @Parent(key: "enterprise_id") public var enterprise: EnterpriseModel
    /// `builtin` or `workspace-one`.
    @Field(key: "kind") public var kind: String
    @OptionalField(key: "base_url") public var baseURL: String?
    @OptionalField(key: "tenant_code") public var tenantCode: String?
    @OptionalField(key: "username") public var username: String?
    @OptionalField(key: "password") public var password: String?
    @OptionalField(key: "oauth_token_url") public var oauthTokenURL: String?
    @OptionalField(key: "oauth_client_id") public var oauthClientID: String?
    @OptionalField(key: "oauth_client_secret") public var oauthClientSecret: String?
    /// JSON of the tag mapping.
    @Field(key: "tag_mapping") public var tagMapping: String
    @Field(key: "create_missing_tags") public var createMissingTags: Bool
    @Timestamp(key: "updated_at", on: .update) public var updatedAt: Date?

    public init() {}
}
