import FluentKit
import SQLKit

/// Devices and threats get `listing_id` (the Mobile Risk API's `oid`; SQLite reserves that name
/// for its row ids): a positive integer, increasing with creation, that the Mobile
/// Risk API pages by (`oid` of the last item of a page → the next page), as Lookout's API does.
///
/// Models do not map the column: the database fills it. PostgreSQL from a sequence (BIGSERIAL also
/// numbers the existing rows); SQLite from a trigger after each insert (one writer at a time, so
/// MAX + 1 cannot be taken twice), existing rows in creation order.
public struct M019_AddListingOIDs: AsyncMigration {
    public init() {}

    static let tables = ["devices", "threats"]

    public func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        for table in Self.tables {
            if sql.dialect.name == "postgresql" {
                try await sql.raw("ALTER TABLE \(unsafeRaw: table) ADD COLUMN listing_id BIGSERIAL").run()
            } else {
                try await sql.raw("ALTER TABLE \(unsafeRaw: table) ADD COLUMN listing_id INTEGER").run()
                try await sql.raw("UPDATE \(unsafeRaw: table) SET listing_id = rowid").run()
                try await sql.raw("""
                    CREATE TRIGGER \(unsafeRaw: table)_listing_id AFTER INSERT ON \(unsafeRaw: table) WHEN NEW.listing_id IS NULL
                    BEGIN UPDATE \(unsafeRaw: table) SET listing_id = (SELECT COALESCE(MAX(listing_id), 0) + 1 FROM \(unsafeRaw: table)) WHERE rowid = NEW.rowid; END
                    """).run()
            }
            try await sql.create(index: "\(table)_listing_id").on(table).column("listing_id").unique().run()
        }
        // Listing one device's threats in oid order.
        try await sql.create(index: "threats_enterprise_listing_id").on("threats").column("enterprise_id").column("listing_id").run()
    }

    public func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.drop(index: "threats_enterprise_listing_id").run()
        for table in Self.tables {
            try await sql.drop(index: "\(table)_listing_id").run()
            if sql.dialect.name != "postgresql" { try await sql.raw("DROP TRIGGER \(unsafeRaw: table)_listing_id").run() }
            try await sql.raw("ALTER TABLE \(unsafeRaw: table) DROP COLUMN listing_id").run()
        }
    }
}
