import Foundation
import MTDCore
import Vapor

/// Workspace ONE's error body: `{"errorCode": Int, "message": String, "activityId": UUID}`.
struct UEMError: AbortError, Sendable {
    var status: HTTPResponseStatus
    var errorCode: Int
    var message: String

    var reason: String { message }

    static func credentials(_ user: String) -> UEMError {
        UEMError(status: .unauthorized, errorCode: 1005, message: "An error occurred while validating remote service client credentials or user not found : \(user)")
    }

    static func tenantCode(_ code: String) -> UEMError {
        UEMError(status: .forbidden, errorCode: 1013, message: "Tenant code \(code) does not identify an Organization Group.")
    }

    static func permission(_ category: UEMCategory, _ level: UEMPermissionLevel) -> UEMError {
        UEMError(status: .forbidden, errorCode: 1001, message: "The role of this account lacks \(category.rawValue) \(level.rawValue); grant it in the account's role.")
    }

    static func notFound(_ what: String, code: Int = 5061) -> UEMError {
        UEMError(status: .notFound, errorCode: code, message: "\(what) not found for this request.")
    }

    static func invalid(_ message: String) -> UEMError {
        UEMError(status: .badRequest, errorCode: 1000, message: message)
    }
}

struct UEMErrorBody: Content {
    var errorCode: Int
    var message: String
    var activityId: String
}

/// Turns errors on `/API` routes into the Workspace ONE error body.
struct UEMErrorMiddleware: AsyncMiddleware {
    /// Tells a database outage (retry later: 503) from a failure (500); the host knows its drivers.
    var isDatabaseOutage: @Sendable (any Error) -> Bool = { _ in false }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            let status: HTTPResponseStatus
            let body: UEMErrorBody
            let activity = UUID().uuidString.lowercased()
            switch error {
            case let uem as UEMError:
                status = uem.status
                body = UEMErrorBody(errorCode: uem.errorCode, message: uem.message, activityId: activity)
            case let bounds as OutOfBounds:
                status = .badRequest
                body = UEMErrorBody(errorCode: 1000, message: "Invalid \(bounds.parameter): \(bounds.message)", activityId: activity)
            case let decoding as DecodingError:
                status = .badRequest
                body = UEMErrorBody(errorCode: 1000, message: "Invalid request body: \(decoding.localizedDescription)", activityId: activity)
            case let abort as any AbortError:
                status = abort.status
                body = UEMErrorBody(errorCode: Int(abort.status.code), message: abort.reason, activityId: activity)
            case let outage where isDatabaseOutage(outage):
                request.logger.warning("UEM request: database unavailable", metadata: ["error": "\(String(reflecting: error))"])
                status = .serviceUnavailable
                body = UEMErrorBody(errorCode: 503, message: "Service unavailable: the database cannot be reached right now; retry shortly.", activityId: activity)
                let response = Response(status: status)
                response.headers.replaceOrAdd(name: .retryAfter, value: "2")
                try? response.content.encode(body)
                return response
            default:
                request.logger.error("UEM request failed", metadata: ["error": "\(String(reflecting: error))"])
                status = .internalServerError
                body = UEMErrorBody(errorCode: 500, message: "Internal error; activity \(activity) in the server log.", activityId: activity)
            }
            let response = Response(status: status)
            try? response.content.encode(body)
            return response
        }
    }
}
