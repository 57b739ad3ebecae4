import FluentKit
import Foundation
import MTDStore
import Vapor

/// `/api/v1/enrollment-codes`: the enterprise's global code; creating one rotates it (older codes are revoked).
enum EnrollmentCodeController {
    static func list(_ req: Request) async throws -> [EnrollmentCodeSummary] {
        try await req.application.mtd.enrollmentCodes.list(principal: try req.admin, on: req.db).map { EnrollmentCodeSummary($0) }
    }

    static func rotate(_ req: Request) async throws -> Response {
        let principal = try req.admin
        try principal.require(\.canManageEnterprise, "rotate enrollment codes")
        // No body means a code that does not expire; a body that cannot be read is an error, never
        // silently a code that does not expire.
        let hasBody = (req.body.data?.readableBytes ?? 0) > 0
        let body = hasBody ? try req.content.decode(CreateEnrollmentCodeRequest.self) : CreateEnrollmentCodeRequest(expiresAt: nil)
        let model = try await req.application.mtd.enrollmentCodes.rotate(expiresAt: body.expiresAt, principal: principal, on: req.db)
        return try await EnrollmentCodeSummary(model).encodeResponse(status: .created, for: req)
    }

    static func revoke(_ req: Request) async throws -> EnrollmentCodeSummary {
        let principal = try req.admin
        guard let id = req.parameters.get("id", as: UUID.self) else { throw APIError.notFound("enrollment code") }
        return EnrollmentCodeSummary(try await req.application.mtd.enrollmentCodes.revoke(id, principal: principal, on: req.db))
    }
}
