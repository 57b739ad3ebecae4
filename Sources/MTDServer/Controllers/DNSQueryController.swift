import Foundation
import MTDCore
import ProtectiveDNS
import Vapor

/// DNS-over-HTTPS (RFC 8484): `GET /dns-query?dns=<base64url message>` and `POST /dns-query` with an
/// `application/dns-message` body, on HTTP/1.1 and, with TLS, HTTP/2. `/dns-query/{resolver token}`
/// attributes the query to the device holding that token.
enum DNSQueryController {
    static let mediaType = HTTPMediaType(type: "application", subType: "dns-message")
    /// Base64url characters of `?dns=` (about 3 KiB of message: any query fits).
    static let maxGetCharacters = 4_096

    static func get(_ req: Request) async throws -> Response {
        guard let encoded = req.query[String.self, at: "dns"], !encoded.isEmpty else {
            throw APIError.badRequest("give the DNS query as ?dns=<base64url, without padding> (RFC 8484 §4.1)", field: "dns")
        }
        // A query line that long is cut off by HTTP servers and proxies; bigger messages go by POST.
        guard encoded.utf8.count <= maxGetCharacters else {
            throw APIError.badRequest("dns is longer than \(maxGetCharacters) characters; send a message that large with POST", field: "dns")
        }
        guard let message = base64URLDecode(encoded) else {
            throw APIError.badRequest("dns is not base64url (without padding) of a DNS message", field: "dns")
        }
        return try await answer(message, req)
    }

    static func post(_ req: Request) async throws -> Response {
        guard req.headers.contentType == mediaType else {
            throw APIError(status: .unsupportedMediaType, code: "unsupported_media_type",
                           message: "send the DNS query with Content-Type: application/dns-message (RFC 8484 §4.1)")
        }
        guard let body = req.body.data, body.readableBytes > 0 else {
            throw APIError.badRequest("empty body; send one DNS message", field: "body")
        }
        return try await answer(Array(body.readableBytesView), req)
    }

    private static func answer(_ message: [UInt8], _ req: Request) async throws -> Response {
        let dns = req.application.mtd.dns
        guard let running = dns.current else {
            // Not offered rather than failing: a 5xx would tell clients to retry a server that will not answer.
            throw APIError(status: .notFound, code: "resolver_off",
                           message: "the protective resolver is off; start openmtd serve with --dns-upstream")
        }
        var admission = dns.unattributed(req.clientAddress)
        if let token = req.parameters.get("token") {
            guard let known = try await dns.tokens.client(for: Substring(token), on: req.db) else {
                throw APIError(status: .notFound, code: "unknown_resolver_token",
                               message: "unknown resolver token; the device gets its current one when it activates, and its DNS profile names it")
            }
            admission = .client(known)
        }
        let outcome: ProtectiveResolver.Outcome = switch admission {
        case .client(let client): running.resolver.answer(message, from: client, udp: false)
        case .refused(let reason): running.resolver.refuse(message, reason: reason)
        }
        let reply: [UInt8]
        switch outcome {
        case .drop:
            throw APIError.badRequest("the body is not a DNS query", field: "dns")
        case .now(let bytes):
            reply = bytes
        case .later(let work):
            reply = await work()
        }
        var headers = HTTPHeaders()
        headers.contentType = mediaType
        // RFC 8484 §5.1: HTTP caches keep the answer no longer than its smallest TTL.
        headers.replaceOrAdd(name: .cacheControl, value: "max-age=\(freshness(reply))")
        return Response(status: .ok, headers: headers, body: .init(buffer: ByteBuffer(bytes: reply)))
    }

    /// The smallest TTL of the answer and authority records (the SOA's for a negative answer), 0 if none.
    /// Read off the wire rather than decoded: this runs for every DoH answer.
    static func freshness(_ reply: [UInt8]) -> UInt32 {
        DNSWireScan.minimumTTL(reply) ?? 0
    }

    static func base64URLDecode(_ text: String) -> [UInt8]? {
        guard text.utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        if standard.hasSuffix("=") { return nil } // RFC 8484: padding is not used
        switch standard.utf8.count % 4 {
        case 2: standard += "=="
        case 3: standard += "="
        case 1: return nil
        default: break
        }
        return Data(base64Encoded: standard).map { Array($0) }
    }
}
