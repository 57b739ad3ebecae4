import Fluent

/// `uem_profiles.dns_settings`: the DNS settings payload of a "DNS settings" profile (JSON, with
/// lookup values), rendered per device as Apple's DNS Settings payload or Android's Private DNS.
struct U011_AddProfileDNSSettings: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(UEMProfile.schema).field("dns_settings", .string).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(UEMProfile.schema).deleteField("dns_settings").update()
    }
}
