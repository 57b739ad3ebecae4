import FluentKit
import Foundation
import SQLKit

/// One device per (enterprise, UDID) and per (enterprise, UEM device id). Before this, concurrent
/// activations of one phone (an agent retrying after a timeout, or two replicas) could create several
/// devices. The indexes were plain; they become unique, after the duplicates already stored are
/// folded: per identity, the most recently activated device keeps it, and the others lose the
/// identity, their credential and their activation (DEACTIVATED), keeping their history. An agent
/// holding such a credential gets 401 and activates again, landing on the kept device. Empty
/// identities become NULL, which unique indexes allow any number of.
public struct M014_UniqueDeviceIdentity: AsyncMigration {
    public init() {}

    public func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await Self.foldDuplicates(on: sql)
        try await sql.drop(index: "devices_enterprise_udid").ifExists().run()
        try await sql.drop(index: "devices_enterprise_external").ifExists().run()
        try await sql.create(index: "devices_enterprise_udid").unique().on(DeviceModel.schema).column("enterprise_id").column("udid").run()
        try await sql.create(index: "devices_enterprise_external").unique().on(DeviceModel.schema).column("enterprise_id").column("external_id").run()
    }

    public func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.drop(index: "devices_enterprise_udid").ifExists().run()
        try await sql.drop(index: "devices_enterprise_external").ifExists().run()
        try await sql.create(index: "devices_enterprise_udid").on(DeviceModel.schema).column("enterprise_id").column("udid").run()
        try await sql.create(index: "devices_enterprise_external").on(DeviceModel.schema).column("enterprise_id").column("external_id").run()
    }

    /// Returns how many devices lost an identity.
    @discardableResult
    static func foldDuplicates(on sql: any SQLDatabase) async throws -> Int {
        try await sql.raw("UPDATE devices SET udid = NULL WHERE udid = ''").run()
        try await sql.raw("UPDATE devices SET external_id = NULL WHERE external_id = ''").run()
        struct Row: Decodable {
            var id: UUID
            var enterprise_id: UUID
            var udid: String?
            var external_id: String?
            var activated_at: Date?
        }
        let rows = try await sql.raw("SELECT id, enterprise_id, udid, external_id, activated_at FROM devices WHERE udid IS NOT NULL OR external_id IS NOT NULL")
            .all(decoding: Row.self)
        // Newest activation first; the id breaks ties so every run folds the same way.
        let ordered = rows.sorted { ($0.activated_at ?? .distantPast, $0.id.uuidString) > ($1.activated_at ?? .distantPast, $1.id.uuidString) }
        var folded = Set<UUID>()
        for column in ["udid", "external_id"] {
            var kept = Set<String>()
            for row in ordered {
                guard let value = column == "udid" ? row.udid : row.external_id else { continue }
                let key = row.enterprise_id.uuidString + "\u{1F}" + value
                if kept.insert(key).inserted { continue }
                try await sql.raw("""
                    UPDATE devices SET \(unsafeRaw: column) = NULL, credential_hash = NULL, activation_status = 'DEACTIVATED', revision = revision + 1 \
                    WHERE id = \(bind: row.id)
                    """).run()
                folded.insert(row.id)
            }
        }
        return folded.count
    }
}
