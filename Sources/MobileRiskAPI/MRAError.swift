import Fluent
import Foundation
import Vapor

/// An error of the Mobile Risk API, in the RFC 6749 shape Lookout's clients read on every endpoint:
/// `{"error": …, "error_description": …}`, plus the parameter at fault when there is one.
public struct MRAError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponseStatus
    public var code: String
    public var message: String
    public var parameter: String?
    public var retryAfter: Int?

    public var description: String { "\(code): \(message)" }

    static func invalidClient(_ message: String) -> MRAError {
        MRAError(status: .unauthorized, code: "invalid_client", message: message)
    }

    static func invalidToken(_ message: String = "missing or unknown access token; get one from POST /oauth2/token") -> MRAError {
        MRAError(status: .unauthorized, code: "invalid_token", message: message)
    }

    static func insufficientScope(_ scope: MRAScope) -> MRAError {
        MRAError(status: .forbidden, code: "insufficient_scope", message: "this application key lacks the \(scope.rawValue) scope")
    }

    static func invalidRequest(_ message: String, parameter: String? = nil) -> MRAError {
        MRAError(status: .badRequest, code: "invalid_request", message: message, parameter: parameter)
    }

    static func notFound(_ message: String) -> MRAError {
        MRAError(status: .notFound, code: "not_found", message: message)
    }

    static func rateLimited(retryAfter: Int) -> MRAError {
        MRAError(status: .tooManyRequests, code: "rate_limited",
                 message: "too many requests for this enterprise; retry after \(retryAfter) s", retryAfter: retryAfter)
    }

    static func unavailable(retryAfter: Int) -> MRAError {
        MRAError(status: .serviceUnavailable, code: "temporarily_unavailable",
                 message: "the database is unavailable; retry after \(retryAfter) s", retryAfter: retryAfter)
    }

    struct Body: Content {
        var error: String
        var error_description: String
        var parameter: String?
    }
}

/// Renders every failure under `/oauth2` and `/mra` in the API's own shape: MRAErrors as they are,
/// database outages as 503 with Retry-After, Vapor's own errors (a body that is not a form, …) as
/// `invalid_request`, anything else as a 500 without internals.
struct MRAErrorMiddleware: AsyncMiddleware {
    let isDatabaseOutage: @Sendable (any Error) -> Bool
    let logger = Logger(label: "openmtd.mobile-risk")

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch let error as MRAError {
            return Self.response(error)
        } catch {
            if isDatabaseOutage(error) {
                logger.warning("database unavailable", metadata: ["path": "\(request.url.path)", "error": "\(error)"])
                return Self.response(.unavailable(retryAfter: 2))
            }
            if let abort = error as? any AbortError, abort.status.code < 500 {
                return Self.response(MRAError(status: abort.status, code: "invalid_request", message: abort.reason))
            }
            logger.error("request failed", metadata: ["path": "\(request.url.path)", "error": "\(String(reflecting: error))"])
            return Self.response(MRAError(status: .internalServerError, code: "server_error", message: "the request failed on the server"))
        }
    }

    static func response(_ error: MRAError) -> Response {
        var headers = HTTPHeaders()
        headers.contentType = .json
        headers.cacheControl = .init(noStore: true)
        if let retryAfter = error.retryAfter { headers.replaceOrAdd(name: .retryAfter, value: String(retryAfter)) }
        if error.status == .unauthorized { headers.replaceOrAdd(name: .wwwAuthenticate, value: "Bearer error=\"\(error.code)\"") }
        let body = MRAError.Body(error: error.code, error_description: error.message, parameter: error.parameter)
        let data = (try? JSONEncoder().encode(body)) ?? Data("{\"error\":\"\(error.code)\"}".utf8)
        return Response(status: error.status, headers: headers, body: .init(data: data))
    }
}
