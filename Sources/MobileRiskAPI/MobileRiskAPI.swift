import Fluent
import FluentKit
import Foundation
import MTDIntel
import MTDServices
import MTDStore
import Vapor

/// The Lookout Mobile Risk API v2-compatible surface: `POST /oauth2/token` for application keys,
/// the event stream at `/mra/stream/v2/events`, and REST under `/mra/api/v2`. A SIEM connector
/// written for Lookout works against OpenMTD by changing its base URL (docs/mobile-risk-api.md).
public final class MobileRiskAPI: Sendable {
    public struct Settings: Sendable, Codable, Equatable {
        public var keys = ApplicationKeys.Settings()
        public var stream = EventStreamHub.Settings()
        /// REST calls per enterprise and minute (Lookout: 100), shared by every replica.
        public var requestsPerMinute = 100
        /// Seconds between heartbeats on an idle stream (Lookout: 5; clients give up after 10).
        public var heartbeatSeconds = 5.0
        /// A stream whose client does not take a frame within this time is closed (it resumes by id).
        public var writeTimeoutSeconds = 30.0
        public init() {}
    }

    public let settings: Settings
    public let keys: ApplicationKeys
    public let hub: EventStreamHub
    let limiter: RateLimiter
    let writes: WriteGate
    let clock: @Sendable () -> Date
    /// The intelligence in use (OS catalog for os-vulns), read per request.
    let intelligence: @Sendable () -> ThreatIntelligence

    package init(
        settings: Settings, writes: WriteGate, intelligence: @escaping @Sendable () -> ThreatIntelligence,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.settings = settings
        self.writes = writes
        self.clock = clock
        self.intelligence = intelligence
        keys = ApplicationKeys(settings: settings.keys, writes: writes)
        hub = EventStreamHub(settings: settings.stream)
        limiter = RateLimiter(scope: "mra", capacity: settings.requestsPerMinute, perMinute: settings.requestsPerMinute, writes: writes)
    }

    public static var migrations: [any Migration] { [MRA001_CreateApplicationKeys()] }

    /// Registers the routes. `isDatabaseOutage` tells outages (503) from failures (500).
    public func routes(_ app: Application, isDatabaseOutage: @escaping @Sendable (any Error) -> Bool) {
        let errors = MRAErrorMiddleware(isDatabaseOutage: isDatabaseOutage)
        let token = TokenController(api: self)
        app.grouped(errors).post("oauth2", "token", use: token.issue)
        let mra = app.grouped("mra").grouped(errors)
        mra.get("openapi.json", use: Self.openAPI)
        let authenticated = mra.grouped(MRAAuthMiddleware(api: self))
        let stream = EventStreamController(api: self)
        authenticated.get("stream", "v2", "events", use: stream.stream)
        let rest = authenticated.grouped("api", "v2").grouped(MRARateLimitMiddleware(api: self))
        let events = EventPollController(api: self)
        rest.get("events", use: events.poll)
        let devices = DeviceResourceController(api: self)
        rest.get("devices", use: devices.list)
        rest.get("device", use: devices.one)
        let threats = ThreatResourceController(api: self)
        rest.get("threats", use: threats.list)
        rest.get("threat", use: threats.one)
        rest.get("pcp-threats", use: threats.pcp)
        let vulns = OSVulnController(api: self)
        rest.get("os-vulns", "android", use: vulns.android)
        rest.get("os-vulns", "ios", use: vulns.ios)
        rest.get("os-vulns", "cve", use: vulns.cve)
        rest.get("os-vulns", "devices", use: vulns.devices)
        rest.get("os-vulns", "os-versions", use: vulns.osVersions)
    }

    static func openAPI(_ req: Request) async throws -> Response {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json") else {
            throw MRAError.notFound("the OpenAPI document is missing from this build")
        }
        let data = try Data(contentsOf: url)
        var headers = HTTPHeaders()
        headers.contentType = .json
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }
}

struct MRAPrincipalKey: StorageKey {
    typealias Value = MRAPrincipal
}

extension Request {
    var mraPrincipal: MRAPrincipal {
        get throws {
            guard let principal = storage[MRAPrincipalKey.self] else { throw MRAError.invalidToken() }
            return principal
        }
    }
}

/// `Authorization: Bearer <access token>`.
struct MRAAuthMiddleware: AsyncMiddleware {
    let api: MobileRiskAPI

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let token = request.headers.bearerAuthorization?.token, !token.isEmpty else { throw MRAError.invalidToken() }
        request.storage[MRAPrincipalKey.self] = try await api.keys.authenticate(token: token, now: api.clock(), on: request.db)
        return try await next.respond(to: request)
    }
}

/// The per-enterprise REST allowance, answered with 429 and Retry-After past it.
struct MRARateLimitMiddleware: AsyncMiddleware {
    let api: MobileRiskAPI

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let principal = try request.mraPrincipal
        if let wait = try await api.limiter.take(principal.enterpriseID.uuidString, on: request.db, now: api.clock()) {
            throw MRAError.rateLimited(retryAfter: wait)
        }
        return try await next.respond(to: request)
    }
}
