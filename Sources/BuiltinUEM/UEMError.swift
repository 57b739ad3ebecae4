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
                body = UEMErrorBody(errorCode: 1000, message: "Invalid request body: \(Self.describe(decoding))", activityId: activity)
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

    /// A decoding error as the field it is about and what is wrong, e.g. `Tags[0].Id: an id is a
    /// number or a numeric string, not "x"`.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            var text = ""
            for key in keys {
                if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
            return text.isEmpty ? "the body" : text
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context.codingPath + [key])) is required"
        case .valueNotFound(_, let context): return "\(path(context.codingPath)) must not be null"
        case .typeMismatch(let type, let context): return "\(path(context.codingPath)) must be \(Self.name(of: type))"
        case .dataCorrupted(let context): return "\(path(context.codingPath)): \(context.debugDescription.prefix(200))"
        @unknown default: return "\(error)"
        }
    }

    static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: "a whole number"
        case is Bool.Type: "true or false"
        case is Double.Type: "a number"
        default: String(describing: type).hasPrefix("Array") ? "a list" : "an object"
        }
    }
}
