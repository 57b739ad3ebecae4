import Fluent
import FluentKit
import Foundation
import MTDServices
import MTDStore

/// Application keys and the access tokens issued for them.
public struct ApplicationKeys: Sendable {
    public struct Settings: Sendable, Codable, Equatable {
        /// How long a new key is valid (Lookout: one year).
        public var keyLifetime: TimeInterval = 365 * 86_400
        /// How long an access token is valid (Lookout: two hours; clients refresh about 5 minutes early).
        public var tokenLifetime: TimeInterval = 2 * 3_600

        public init() {}
    }

    /// Days before expiry at which owners are warned, largest first (Lookout's schedule).
    public static let warningDays = [30, 21, 14, 7, 5, 3, 2]
    static let keyPrefix = "omtd_ak_"
    static let tokenPrefix = "omtd_at_"

    let settings: Settings
    let writes: WriteGate

    package init(settings: Settings, writes: WriteGate) {
        self.settings = settings
        self.writes = writes
    }

    /// A new key, and the key itself (shown once).
    public struct Created: Sendable {
        public var key: ApplicationKeyModel
        public var secret: String
    }

    public func create(
        enterpriseID: UUID, name: String, scopes: [String], createdBy: String, now: Date, on database: any Database
    ) async throws -> Created {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 100 else {
            throw MRAError.invalidRequest("name must be 1 to 100 characters", parameter: "name")
        }
        guard !scopes.isEmpty else {
            throw MRAError.invalidRequest("scopes must name at least one of \(Self.scopeList)", parameter: "scopes")
        }
        var granted = Set<MRAScope>()
        for scope in scopes {
            guard let known = MRAScope(rawValue: scope) else {
                throw MRAError.invalidRequest("unknown scope \"\(scope.prefix(40))\"; use \(Self.scopeList)", parameter: "scopes")
            }
            granted.insert(known)
        }
        let secret = Secrets.token(prefix: Self.keyPrefix)
        let key = ApplicationKeyModel()
        key.id = UUID()
        key.enterpriseID = enterpriseID
        key.name = trimmed
        key.scopes = MRAScope.text(granted)
        key.keyHash = Secrets.hash(secret)
        key.createdBy = createdBy
        key.createdAt = now
        key.expiresAt = now.addingTimeInterval(settings.keyLifetime)
        try await writes.run {
            try await database.transaction { tx in
                try await key.create(on: tx)
                try await EventLog.append(
                    [Self.audit(key, change: .created, actor: EventParty(type: "ADMIN", guid: createdBy), changes: [
                        .init(name: "name", to: key.name), .init(name: "scopes", to: key.scopes),
                        .init(name: "expires_at", to: ISO8601DateFormatter().string(from: key.expiresAt)),
                    ])],
                    enterpriseID: enterpriseID, on: tx, now: now)
            }
        }
        return Created(key: key, secret: secret)
    }

    public func list(enterpriseID: UUID, on database: any Database) async throws -> [ApplicationKeyModel] {
        try await ApplicationKeyModel.query(on: database)
            .filter(\.$enterpriseID == enterpriseID)
            .sort(\.$createdAt, .descending)
            .all()
    }

    /// Revokes a key and every access token issued for it; false when the enterprise has no such key.
    public func revoke(id: UUID, enterpriseID: UUID, by admin: String, now: Date, on database: any Database) async throws -> Bool {
        try await writes.run {
            try await database.transaction { tx in
                guard let key = try await ApplicationKeyModel.query(on: tx)
                    .filter(\.$id == id).filter(\.$enterpriseID == enterpriseID).first()
                else { return false }
                try await AccessTokenModel.query(on: tx).filter(\.$keyID == id).delete()
                if key.revokedAt == nil {
                    key.revokedAt = now
                    try await key.update(on: tx)
                    try await EventLog.append(
                        [Self.audit(key, change: .deleted, actor: EventParty(type: "ADMIN", guid: admin), changes: [.init(name: "revoked_at", to: ISO8601DateFormatter().string(from: now))])],
                        enterpriseID: enterpriseID, on: tx, now: now)
                }
                return true
            }
        }
    }

    /// An access token for an application key (`POST /oauth2/token`).
    public struct Issued: Sendable {
        public var token: String
        public var expiresAt: Date
        public var scopes: Set<MRAScope>
    }

    /// The usable key behind `secret`, or an `invalid_client` error.
    func key(forSecret secret: String, now: Date, on database: any Database) async throws -> ApplicationKeyModel {
        guard secret.hasPrefix(Self.keyPrefix),
              let key = try await ApplicationKeyModel.query(on: database).filter(\.$keyHash == Secrets.hash(secret)).first()
        else { throw MRAError.invalidClient("unknown application key; create one under System > Application Keys") }
        guard key.revokedAt == nil else { throw MRAError.invalidClient("this application key was revoked") }
        guard key.expiresAt > now else { throw MRAError.invalidClient("this application key expired; create a new one") }
        return key
    }

    func issueToken(for key: ApplicationKeyModel, requested: Set<MRAScope>?, now: Date, on database: any Database) async throws -> Issued {
        var scopes = key.scopeSet
        if let requested {
            guard requested.isSubset(of: scopes) else {
                throw MRAError(status: .badRequest, code: "invalid_scope", message: "the key does not grant \(MRAScope.text(requested.subtracting(scopes)))")
            }
            scopes = requested
        }
        let token = Secrets.token(prefix: Self.tokenPrefix)
        let stored = AccessTokenModel()
        stored.id = UUID()
        stored.keyID = try key.requireID()
        stored.enterpriseID = key.enterpriseID
        stored.tokenHash = Secrets.hash(token)
        stored.scopes = MRAScope.text(scopes)
        stored.createdAt = now
        // Never past the key's own expiry.
        stored.expiresAt = min(now.addingTimeInterval(settings.tokenLifetime), key.expiresAt)
        try await writes.run {
            try await database.transaction { tx in
                try await stored.create(on: tx)
                key.lastUsedAt = now
                try await key.update(on: tx)
                // Expired tokens of this key are of no use to anyone.
                try await AccessTokenModel.query(on: tx).filter(\.$keyID == stored.keyID).filter(\.$expiresAt < now).delete()
            }
        }
        return Issued(token: token, expiresAt: stored.expiresAt, scopes: scopes)
    }

    /// Who holds `token`, or an `invalid_token` error.
    public func authenticate(token: String, now: Date, on database: any Database) async throws -> MRAPrincipal {
        guard token.hasPrefix(Self.tokenPrefix),
              let stored = try await AccessTokenModel.query(on: database).filter(\.$tokenHash == Secrets.hash(token)).first()
        else { throw MRAError.invalidToken() }
        guard stored.expiresAt > now else { throw MRAError.invalidToken("the access token expired; get a new one from POST /oauth2/token") }
        return MRAPrincipal(enterpriseID: stored.enterpriseID, keyID: stored.keyID, scopes: MRAScope.parse(stored.scopes))
    }

    /// Keys whose next expiry warning is due at `now`, with the warning's day count; marks them warned.
    public func dueWarnings(now: Date, on database: any Database) async throws -> [(key: ApplicationKeyModel, days: Int)] {
        let horizon = now.addingTimeInterval(Double(Self.warningDays[0]) * 86_400)
        let keys = try await ApplicationKeyModel.query(on: database)
            .filter(\.$revokedAt == nil).filter(\.$expiresAt > now).filter(\.$expiresAt <= horizon).all()
        var due: [(key: ApplicationKeyModel, days: Int)] = []
        for key in keys {
            let left = key.expiresAt.timeIntervalSince(now) / 86_400
            // The smallest threshold not below the days left, e.g. 6.5 days left → the 7-day warning.
            guard let threshold = Self.warningDays.last(where: { Double($0) >= left }) else { continue }
            if let warned = key.warnedDays, warned <= threshold { continue }
            due.append((key, threshold))
        }
        guard !due.isEmpty else { return [] }
        let warnings = due
        try await writes.run {
            try await database.transaction { tx in
                for (key, days) in warnings {
                    key.warnedDays = days
                    try await key.update(on: tx)
                    try await EventLog.append(
                        [Self.audit(key, change: .updated, actor: .system, changes: [.init(name: "expires_in_days", to: String(days))])],
                        enterpriseID: key.enterpriseID, on: tx, now: now)
                }
            }
        }
        return due
    }

    /// Keys not revoked that expire within 30 days: all enterprises', or one's (the console banner,
    /// the metric).
    public func expiring(enterpriseID: UUID? = nil, now: Date, on database: any Database) async throws -> Int {
        var query = ApplicationKeyModel.query(on: database)
            .filter(\.$revokedAt == nil).filter(\.$expiresAt > now)
            .filter(\.$expiresAt <= now.addingTimeInterval(Double(Self.warningDays[0]) * 86_400))
        if let enterpriseID { query = query.filter(\.$enterpriseID == enterpriseID) }
        return try await query.count()
    }

    static var scopeList: String { MRAScope.allCases.map(\.rawValue).joined(separator: ", ") }

    static func audit(_ key: ApplicationKeyModel, change: ChangeType, actor: EventParty, changes: [AuditPayload.AttributeChange]) -> EventLog.NewEvent {
        EventLog.NewEvent(
            type: .audit, change: change, actor: actor,
            target: EventParty(type: "APPLICATION_KEY", guid: key.id?.uuidString.lowercased()),
            payload: AuditPayload(type: "APPLICATION_KEY", changes: changes))
    }
}

/// The caller of the Mobile Risk API: an access token's enterprise and scopes.
public struct MRAPrincipal: Sendable {
    public var enterpriseID: UUID
    public var keyID: UUID
    public var scopes: Set<MRAScope>

    func require(_ scope: MRAScope) throws {
        guard scopes.contains(scope) else { throw MRAError.insufficientScope(scope) }
    }
}
