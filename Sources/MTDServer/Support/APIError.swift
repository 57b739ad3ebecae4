import Foundation
import MTDCore
import Vapor

/// An error answered to an API client: HTTP status, a stable code, a message that says what to fix,
/// and for bad input the JSON path of the field.
struct APIError: AbortError, Sendable {
    var status: HTTPResponseStatus
    var code: String
    var message: String
    var field: String?
    var retryAfterSeconds: Int?
    /// Several things to fix at once (e.g. every tag of a mapping the UEM lacks).
    var problems: [ErrorBody.Problem]?

    var reason: String { message }
    var headers: HTTPHeaders {
        var headers = HTTPHeaders()
        if let retryAfterSeconds { headers.add(name: .retryAfter, value: "\(retryAfterSeconds)") }
        return headers
    }

    static func badRequest(_ message: String, field: String? = nil) -> APIError {
        APIError(status: .badRequest, code: "bad_request", message: message, field: field)
    }

    static func invalidDocument(_ error: DocumentError) -> APIError {
        APIError(status: .badRequest, code: "invalid_document", message: error.message, field: error.path)
    }

    static func unauthorized(_ message: String = "missing or invalid credentials; send Authorization: Bearer <token>") -> APIError {
        APIError(status: .unauthorized, code: "unauthorized", message: message)
    }

    static func forbidden(_ message: String) -> APIError {
        APIError(status: .forbidden, code: "forbidden", message: message)
    }

    static func notFound(_ what: String) -> APIError {
        APIError(status: .notFound, code: "not_found", message: "\(what) not found")
    }

    static func unprocessable(_ code: String, _ message: String, field: String? = nil, problems: [ErrorBody.Problem]? = nil) -> APIError {
        APIError(status: .unprocessableEntity, code: code, message: message, field: field, problems: problems)
    }

    static func conflict(_ message: String) -> APIError {
        APIError(status: .conflict, code: "conflict", message: message)
    }
}

/// The JSON body of every error: `{"error":{"code","message","field"?}}`.
struct ErrorBody: Content {
    struct Detail: Content {
        var code: String
        var message: String
        var field: String?
        var problems: [Problem]?
    }

    struct Problem: Content {
        var field: String
        var message: String
        var suggestion: String?
    }

    var error: Detail
}

/// Turns every error into a JSON body with the right status; never leaks internals on a 500.
struct APIErrorMiddleware: AsyncMiddleware {
    let logger: Logger

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            return response(for: error, request: request)
        }
    }

    func response(for error: any Error, request: Request) -> Response {
        let status: HTTPResponseStatus
        var headers = HTTPHeaders()
        let detail: ErrorBody.Detail
        switch error {
        case let apiError as APIError:
            status = apiError.status
            headers = apiError.headers
            detail = .init(code: apiError.code, message: apiError.message, field: apiError.field, problems: apiError.problems)
        case let bounds as OutOfBounds:
            status = .badRequest
            detail = .init(code: "out_of_range", message: bounds.message, field: bounds.parameter)
        case let documentError as DocumentError:
            status = .badRequest
            detail = .init(code: "invalid_document", message: documentError.message, field: documentError.path)
        case let decodingError as DecodingError:
            let documentError = DocumentError(decoding: decodingError)
            status = .badRequest
            detail = .init(code: "invalid_document", message: documentError.message, field: documentError.path)
        case let abort as any AbortError:
            status = abort.status
            headers = abort.headers
            let code = abort.status == .payloadTooLarge ? "payload_too_large" : abort.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
            let message = abort.status == .payloadTooLarge ? "request body is larger than this endpoint accepts" : abort.reason
            detail = .init(code: code, message: message, field: nil)
        case let outage where DatabaseOutage.isOutage(outage):
            status = .serviceUnavailable
            headers.add(name: .retryAfter, value: "\(DatabaseOutage.retryAfterSeconds)")
            request.logger.warning("database unavailable", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.url.path)"])
            detail = .init(code: "database_unavailable", message: "the database cannot be reached right now; retry shortly", field: nil)
        default:
            status = .internalServerError
            request.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.url.path)"])
            detail = .init(code: "internal_error", message: "the server failed to handle the request; the log has details", field: nil)
        }
        headers.contentType = .json
        let body = (try? JSONEncoder().encode(ErrorBody(error: detail))) ?? Data()
        return Response(status: status, headers: headers, body: .init(data: body))
    }
}
