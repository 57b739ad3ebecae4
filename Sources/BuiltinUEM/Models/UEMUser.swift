import Fluent
import Foundation

/// An enrollment user: the person devices are enrolled for (WS1 "enrollment user account").
final class UEMUser: Model, @unchecked Sendable {
    static let schema = "uem_users"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "uuid") var uuid: UUID
    @Field(key: "username") var username: String
    @OptionalField(key: "email") var email: String?
    @OptionalField(key: "first_name") var firstName: String?
    @OptionalField(key: "last_name") var lastName: String?
    @Field(key: "organization_group_id") var organizationGroupID: Int
    /// `Active` or `Inactive`; inactive users cannot enroll devices.
    @Field(key: "status") var status: String

    init() {}
}

/// An OAuth 2.0 client (client credentials grant) with a role, as Workspace ONE SaaS offers.
final class UEMOAuthClient: Model, @unchecked Sendable {
    static let schema = "uem_oauth_clients"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "name") var name: String
    @Field(key: "client_id") var clientID: String
    /// SHA-256 of the secret (secrets are long random strings, shown once).
    @Field(key: "secret_hash") var secretHash: String
    @Field(key: "organization_group_id") var organizationGroupID: Int
    @Field(key: "role_id") var roleID: Int

    init() {}
}
