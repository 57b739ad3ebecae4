import Fluent

/// Event notification targets: where the built-in UEM posts Workspace ONE event notifications
/// (enrolment, unenrolment, compliance change), with Basic auth, and how far each has got in
/// `uem_events` (its cursor), so a target that was down gets what it missed.
struct U012_CreateNotificationTargets: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(UEMNotificationTarget.schema)
            .field("id", .int, .identifier(auto: true))
            .field("name", .string, .required)
            .field("url", .string, .required)
            .field("username", .string, .required)
            .field("password", .string, .required)
            .field("delivered_through", .int, .required)
            .field("last_error", .string)
            .field("last_delivered_at", .datetime)
            .unique(on: "name")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(UEMNotificationTarget.schema).delete()
    }
}
