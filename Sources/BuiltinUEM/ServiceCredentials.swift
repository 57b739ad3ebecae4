import Fluent
import Foundation
import SQLKit
import Vapor

/// One password per service account, shared by every process on the database. The first process to
/// need it makes it; one that loses the race to store it takes the winner's.
enum ServiceCredentials {
    static let schema = "uem_service_credentials"

    static func password(for username: String, on database: any Database) async throws -> String {
        guard let sql = database as? any SQLDatabase else { throw UEMError.invalid("The built-in UEM needs an SQL database.") }
        if let password = try await stored(username, on: sql) { return password }
        let fresh = UUID().uuidString + UUID().uuidString
        do {
            try await sql.insert(into: schema).columns("username", "password").values(SQLBind(username), SQLBind(fresh)).run()
            return fresh
        } catch {
            // Another replica stored one first: use it.
            guard (error as? any DatabaseError)?.isConstraintFailure == true, let password = try await stored(username, on: sql) else { throw error }
            return password
        }
    }

    private struct Row: Decodable {
        var password: String
    }

    private static func stored(_ username: String, on sql: any SQLDatabase) async throws -> String? {
        let row = try await sql.select().column("password").from(schema).where("username", .equal, username).first(decoding: Row.self)
        return row?.password
    }

    /// The account's stored hash is brought in line with the shared password (cheap when it already is).
    static func align(_ admin: UEMAdmin, with password: String, on database: any Database) async throws {
        guard !(try Bcrypt.verify(password, created: admin.passwordHash)) else { return }
        admin.passwordHash = try Bcrypt.hash(password, cost: 10)
        try await admin.update(on: database)
    }
}
