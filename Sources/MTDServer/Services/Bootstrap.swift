import MTDServices
import FluentKit
import Foundation
import MTDStore
import Vapor

/// First start: a default enterprise, its owner and an enrollment code. The owner's password comes
/// from the configuration (OPENMTD_ADMIN_PASSWORD) or is generated; what the admin needs once goes to
/// the first-start secrets file, never to the log.
enum Bootstrap {
    static func ensureDefaultEnterprise(app: Application, configuration: ServerConfiguration) async throws {
        guard try await EnterpriseModel.query(on: app.db).count() == 0 else { return }
        let password = configuration.adminPassword ?? Secrets.password()
        let created = try await EnterpriseProvisioning.create(
            name: "Default", ownerEmail: configuration.adminEmail, ownerPassword: password, on: app.db, writes: app.mtd.writes)
        var secrets: KeyValuePairs<String, String> = ["enrollment_code": created.enrollmentCode]
        if configuration.adminPassword == nil {
            secrets = ["owner_email": configuration.adminEmail, "owner_password": password, "enrollment_code": created.enrollmentCode]
        }
        try FirstStartSecrets.record(secrets, dataDirectory: configuration.dataDirectory, logger: app.logger)
        app.logger.notice("default enterprise ready", metadata: ["enterprise": "\(created.enterpriseID)", "owner": "\(configuration.adminEmail)"])
    }
}

/// Creates an enterprise with an owner and an enrollment code.
public enum EnterpriseProvisioning {
    public struct Created: Sendable {
        public var enterpriseID: UUID
        public var enrollmentCode: String
    }

    public static func create(name: String, ownerEmail: String, ownerPassword: String, on database: any Database) async throws -> Created {
        try await create(name: name, ownerEmail: ownerEmail, ownerPassword: ownerPassword, on: database, writes: WriteGate(serializer: nil))
    }

    static func create(name: String, ownerEmail: String, ownerPassword: String, on database: any Database, writes: WriteGate) async throws -> Created {
        let hash = try Bcrypt.hash(ownerPassword, cost: 10)
        let enterprise = EnterpriseModel(name: name)
        let enterpriseID: UUID = try await writes.run {
            try await database.transaction { tx in
                try await enterprise.create(on: tx)
                let id = try enterprise.requireID()
                try await AdminModel(enterpriseID: id, email: ownerEmail.lowercased(), passwordHash: hash, role: AdminRole.owner.rawValue).create(on: tx)
                try await EventLog.append([
                    .init(type: .audit, change: .created, actor: .system, target: .init(type: "ENTERPRISE", guid: id.uuidString.lowercased()),
                          payload: AuditPayload(type: "ENTERPRISE", changes: [.init(name: "name", to: name), .init(name: "owner", to: ownerEmail.lowercased())]))
                ], enterpriseID: id, on: tx, now: Date())
                return id
            }
        }
        let code = try await EnrollmentCodeService.issue(enterpriseID: enterpriseID, expiresAt: nil, actor: .system, writes: writes, on: database)
        return Created(enterpriseID: enterpriseID, enrollmentCode: code.code)
    }
}
