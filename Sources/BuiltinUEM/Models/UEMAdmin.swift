import Fluent
import Foundation

/// A UEM console or API account; REST calls authenticate as one with Basic auth.
final class UEMAdmin: Model, @unchecked Sendable {
    static let schema = "uem_admins"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "uuid") var uuid: UUID
    @Field(key: "username") var username: String
    @Field(key: "password_hash") var passwordHash: String
    @OptionalField(key: "email") var email: String?
    @Field(key: "organization_group_id") var organizationGroupID: Int
    @Field(key: "role_id") var roleID: Int

    init() {}

    init(username: String, passwordHash: String, email: String?, organizationGroupID: Int, roleID: Int) {
        uuid = UUID()
        self.username = username
        self.passwordHash = passwordHash
        self.email = email
        self.organizationGroupID = organizationGroupID
        self.roleID = roleID
    }
}

/// A REST API key (the `aw-tenant-code` header) of an organization group.
final class UEMAPIKey: Model, @unchecked Sendable {
    static let schema = "uem_api_keys"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "code") var code: String
    @Field(key: "name") var name: String
    @Field(key: "organization_group_id") var organizationGroupID: Int

    init() {}

    init(code: String, name: String, organizationGroupID: Int) {
        self.code = code
        self.name = name
        self.organizationGroupID = organizationGroupID
    }
}
