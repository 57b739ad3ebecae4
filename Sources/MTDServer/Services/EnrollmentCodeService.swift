import MTDServices
import FluentKit
import Foundation
import MTDStore

/// The enterprise's enrollment codes: one global code in use; a new one revokes the older ones.
/// The admin API and the console call these functions, which check the permission.
struct EnrollmentCodeService: Sendable {
    let writes: WriteGate

    func list(principal: AdminPrincipal, on database: any Database) async throws -> [EnrollmentCodeModel] {
        try await EnrollmentCodeModel.query(on: database).filter(\.$enterprise.$id == principal.enterpriseID)
            .sort(\.$createdAt, .descending).all()
    }

    func rotate(expiresAt: Date?, principal: AdminPrincipal, on database: any Database, now: Date = Date()) async throws -> EnrollmentCodeModel {
        try principal.require(\.canManageEnterprise, "rotate enrollment codes")
        if let expiresAt, expiresAt <= now {
            throw APIError.badRequest("expiresAt is in the past", field: "$.expiresAt")
        }
        return try await Self.issue(enterpriseID: principal.enterpriseID, expiresAt: expiresAt, actor: principal.actor, writes: writes, on: database)
    }

    func revoke(_ id: UUID, principal: AdminPrincipal, on database: any Database) async throws -> EnrollmentCodeModel {
        try principal.require(\.canManageEnterprise, "revoke enrollment codes")
        guard let code = try await EnrollmentCodeModel.query(on: database).filter(\.$id == id).filter(\.$enterprise.$id == principal.enterpriseID).first()
        else { throw APIError.notFound("enrollment code") }
        guard code.revokedAt == nil else { return code }
        try await writes.run {
            try await database.transaction { tx in
                code.revokedAt = Date()
                try await code.update(on: tx)
                try await EventLog.append([
                    .init(type: .audit, change: .updated, actor: principal.actor, target: .init(type: "ENTERPRISE", guid: principal.enterpriseID.uuidString.lowercased()),
                          payload: AuditPayload(type: "ENROLLMENT_CODE", changes: [.init(name: "revoked", to: Secrets.hint(code.code))]))
                ], enterpriseID: principal.enterpriseID, on: tx, now: Date())
            }
        }
        return code
    }

    /// A new code for the enterprise, revoking the others (also the first start, with no admin yet).
    static func issue(enterpriseID: UUID, expiresAt: Date?, actor: EventParty, writes: WriteGate, on database: any Database) async throws -> EnrollmentCodeModel {
        let model = EnrollmentCodeModel(enterpriseID: enterpriseID, code: Secrets.enrollmentCode(), expiresAt: expiresAt)
        try await writes.run {
            try await database.transaction { tx in
                let now = Date()
                let active = try await EnrollmentCodeModel.query(on: tx).filter(\.$enterprise.$id == enterpriseID).filter(\.$revokedAt == nil).all()
                for code in active {
                    code.revokedAt = now
                    try await code.update(on: tx)
                }
                try await model.create(on: tx)
                try await EventLog.append([
                    .init(type: .audit, change: .created, actor: actor, target: .init(type: "ENTERPRISE", guid: enterpriseID.uuidString.lowercased()),
                          payload: AuditPayload(type: "ENROLLMENT_CODE", changes: [.init(name: "code", from: active.first.map { Secrets.hint($0.code) }, to: Secrets.hint(model.code))]))
                ], enterpriseID: enterpriseID, on: tx, now: now)
            }
        }
        return model
    }
}
