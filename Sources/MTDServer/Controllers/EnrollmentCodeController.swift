import FluentKit
import Foundation
import MTDStore
import Vapor

/// `/api/v1/enrollment-codes`: the enterprise's global code; creating one rotates it (older codes are revoked).
enum EnrollmentCodeController {
    static func list(_ req: Request) async throws -> [EnrollmentCodeSummary] {
        let principal = try req.admin
        return try await EnrollmentCodeModel.query(on: req.db).filter(\.$enterprise.$id == principal.enterpriseID)
            .sort(\.$createdAt, .descending).all().map { EnrollmentCodeSummary($0) }
    }

    static func rotate(_ req: Request) async throws -> Response {
        let principal = try req.admin
        try principal.require(\.canManageEnterprise, "rotate enrollment codes")
        // No body means a code that does not expire; a body that cannot be read is an error, never
        // silently a code that does not expire.
        let hasBody = (req.body.data?.readableBytes ?? 0) > 0
        let body = hasBody ? try req.content.decode(CreateEnrollmentCodeRequest.self) : CreateEnrollmentCodeRequest(expiresAt: nil)
        if let expiresAt = body.expiresAt, expiresAt <= Date() {
            throw APIError.badRequest("expiresAt is in the past", field: "$.expiresAt")
        }
        let model = try await EnrollmentCodes.rotate(enterpriseID: principal.enterpriseID, expiresAt: body.expiresAt, actor: principal.actor, writes: req.application.mtd.writes, on: req.db)
        return try await EnrollmentCodeSummary(model).encodeResponse(status: .created, for: req)
    }

    static func revoke(_ req: Request) async throws -> EnrollmentCodeSummary {
        let principal = try req.admin
        try principal.require(\.canManageEnterprise, "revoke enrollment codes")
        guard let id = req.parameters.get("id", as: UUID.self),
              let code = try await EnrollmentCodeModel.query(on: req.db).filter(\.$id == id).filter(\.$enterprise.$id == principal.enterpriseID).first()
        else { throw APIError.notFound("enrollment code") }
        guard code.revokedAt == nil else { return EnrollmentCodeSummary(code) }
        try await req.application.mtd.writes.run {
            try await req.db.transaction { tx in
                code.revokedAt = Date()
                try await code.update(on: tx)
                try await EventLog.append([
                    .init(type: .audit, change: .updated, actor: principal.actor, target: .init(type: "ENTERPRISE", guid: principal.enterpriseID.uuidString.lowercased()),
                          payload: AuditPayload(type: "ENROLLMENT_CODE", changes: [.init(name: "revoked", to: Secrets.hint(code.code))]))
                ], enterpriseID: principal.enterpriseID, on: tx, now: Date())
            }
        }
        return EnrollmentCodeSummary(code)
    }
}

enum EnrollmentCodes {
    static func rotate(enterpriseID: UUID, expiresAt: Date?, actor: EventParty, writes: WriteGate, on database: any Database) async throws -> EnrollmentCodeModel {
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
