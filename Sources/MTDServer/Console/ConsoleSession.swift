import MTDServices
import FluentKit
import Foundation
import MTDCore
import MTDStore
import Vapor

/// Console sessions: a cookie (HttpOnly, SameSite=Strict, Secure under TLS) holding a session token
/// stored like API tokens (SHA-256 only). Every form carries a CSRF token derived from the session
/// (or, before login, from a pre-session cookie), and every page gets a fresh CSP nonce.
enum ConsoleSession {
    static let cookie = "openmtd_console"
    static let loginCookie = "openmtd_login"
    static let hours: Double = 12

    static func csrfToken(forSession token: String) -> String {
        String(Secrets.hash("csrf:" + token).prefix(40))
    }
}

struct ConsoleContext: Sendable {
    var principal: AdminPrincipal
    var csrf: String
    var nonce: String
    /// Set when the enterprise's newest policy version was rejected: every page says so.
    var policyProblem: PolicyService.Problem? = nil
    /// Application keys of the enterprise that expire within 30 days: every page says so.
    var expiringKeys = 0
}

struct ConsoleContextKey: StorageKey {
    typealias Value = ConsoleContext
}

struct ConsoleNonceKey: StorageKey {
    typealias Value = String
}

extension Request {
    var console: ConsoleContext {
        get throws {
            guard let context = storage[ConsoleContextKey.self] else { throw Abort(.unauthorized) }
            return context
        }
    }

    /// This response's CSP nonce (made by `ConsoleHeadersMiddleware`).
    var cspNonce: String { storage[ConsoleNonceKey.self] ?? "" }
}

/// Security headers for every console response, with the nonce inline styles and scripts need.
struct ConsoleHeadersMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let nonce = Secrets.token(prefix: "").replacingOccurrences(of: "_", with: "").prefix(24)
        request.storage[ConsoleNonceKey.self] = String(nonce)
        // Filter forms send "any" as an empty value; an empty filter is no filter.
        if let query = request.url.query, query.contains("=&") || query.hasSuffix("=") {
            var components = URLComponents()
            components.query = query
            components.queryItems = components.queryItems?.filter { !($0.value ?? "").isEmpty }
            request.url.query = components.percentEncodedQuery
        }
        let response: Response
        do {
            response = try await next.respond(to: request)
        } catch {
            // Pages answer with pages: a bad filter in a URL gets an explanation, not JSON.
            var status = (error as? any AbortError)?.status ?? .internalServerError
            let message: String
            switch error {
            case let api as APIError: message = api.message
            case let bounds as OutOfBounds:
                status = .badRequest
                message = "The address asks for \(bounds.parameter) \(bounds.message). Go back to the first page and try again."
            case is DecodingError: message = "Part of the address is not valid: \(DocumentError(decoding: error).message). Clear the filters and try again."
            case let abort as any AbortError: message = abort.reason
            default:
                request.logger.error("console page failed", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.url.path)"])
                message = "Something went wrong on the server; the log has the details."
            }
            response = ConsolePage.error(request, status: status == .internalServerError && error is DecodingError ? .badRequest : status, title: "Cannot show this page", message: message)
        }
        response.headers.replaceOrAdd(name: "Content-Security-Policy", value:
            "default-src 'none'; style-src 'nonce-\(nonce)'; script-src 'nonce-\(nonce)'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        response.headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
        response.headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        response.headers.replaceOrAdd(name: "Referrer-Policy", value: "same-origin")
        response.headers.replaceOrAdd(name: "Cache-Control", value: "no-store")
        return response
    }
}

/// Pages behind the login: a valid session cookie, and the CSRF token on every form post.
struct ConsoleAuthMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let token = request.cookies[ConsoleSession.cookie]?.string, !token.isEmpty,
              let stored = try await APITokenModel.query(on: request.db).filter(\.$tokenHash == Secrets.hash(token)).filter(\.$kind == "console")
              .with(\.$admin).first(),
              (stored.expiresAt ?? .distantFuture) > Date()
        else {
            let next = request.url.path + (request.url.query.map { "?" + $0 } ?? "")
            let target = "/console/login?next=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            return request.redirect(to: target, redirectType: .normal)
        }
        let principal = AdminPrincipal(
            adminID: try stored.admin.requireID(), enterpriseID: stored.admin.$enterprise.id, email: stored.admin.email,
            role: AdminRole(rawValue: stored.admin.role) ?? .readOnly, scopes: ["read", "write"], tokenID: try stored.requireID())
        let csrf = ConsoleSession.csrfToken(forSession: token)
        if request.method == .POST {
            let sent = (try? request.content.get(String.self, at: "_csrf")) ?? ""
            guard sent == csrf else {
                return ConsolePage.error(request, status: .forbidden, title: "Form expired",
                                         message: "This form is no longer valid (it came from another session). Go back, reload the page and try again.")
            }
        }
        request.storage[AdminPrincipalKey.self] = principal
        let policies = request.application.mtd.policies
        _ = try await policies.current(for: principal.enterpriseID, on: request.db)
        request.storage[ConsoleContextKey.self] = ConsoleContext(
            principal: principal, csrf: csrf, nonce: request.cspNonce, policyProblem: await policies.problem(for: principal.enterpriseID),
            expiringKeys: try await request.application.mtd.mobileRisk.keys.expiring(enterpriseID: principal.enterpriseID, now: Date(), on: request.db))
        return try await next.respond(to: request)
    }
}
