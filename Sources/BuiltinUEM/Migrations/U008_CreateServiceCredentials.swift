import Fluent

/// The passwords of the accounts this server gives itself in its own UEM (the MTD's, the demo
/// fleet's). Kept so that every replica on one database uses the same one: renewing it at every
/// start locked the other replicas out until they restarted too.
struct U008_CreateServiceCredentials: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ServiceCredentials.schema)
            .field("username", .string, .identifier(auto: false))
            .field("password", .string, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ServiceCredentials.schema).delete()
    }
}
