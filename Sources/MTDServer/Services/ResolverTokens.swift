import BuiltinUEM
import FluentKit
import Foundation
import MTDServices
import MTDStore
import NIOConcurrencyHelpers
import ProtectiveDNS

/// Resolver tokens (M020): issued at activation inside its transaction, revoked at deactivation,
/// and looked up per DNS query through a short cache so that a query never waits for the database
/// more than once per token and window.
enum ResolverTokens {
    /// Revokes the device's active token and issues a new one: reactivation rotates it.
    static func issue(deviceID: UUID, enterpriseID: UUID, on database: any Database, now: Date) async throws -> String {
        try await revoke(deviceID: deviceID, on: database, now: now)
        let token = Secrets.resolverToken()
        try await ResolverTokenModel(token: token, deviceID: deviceID, enterpriseID: enterpriseID, createdAt: now).create(on: database)
        return token
    }

    static func revoke(deviceID: UUID, on database: any Database, now: Date) async throws {
        try await ResolverTokenModel.query(on: database).filter(\.$deviceID == deviceID).filter(\.$revokedAt == nil)
            .set(\.$revokedAt, to: now).update()
    }

    /// A device's tokens as the console and `GET /api/v1/dns/decision` show them: the active one, else
    /// the newest (revoked) one; nil for both when the device never had a token.
    struct State {
        var active: ResolverTokenModel?
        var newest: ResolverTokenModel?
    }

    static func state(deviceID: UUID, on database: any Database) async throws -> State {
        let tokens = try await ResolverTokenModel.query(on: database).filter(\.$deviceID == deviceID).sort(\.$createdAt, .descending).all()
        return State(active: tokens.first { $0.revokedAt == nil }, newest: tokens.first)
    }

    /// The device's active token, for profiles and the console.
    static func active(deviceID: UUID, on database: any Database) async throws -> String? {
        try await ResolverTokenModel.query(on: database).filter(\.$deviceID == deviceID).filter(\.$revokedAt == nil)
            .sort(\.$createdAt, .descending).first()?.token
    }
}

/// Token → who asks, cached for `seconds`. An active token names its device; a revoked one only
/// its enterprise (the phone keeps a working resolver until its profile is replaced, but its
/// queries are no longer the device's); an unknown one nobody.
final class ResolverTokenDirectory: Sendable {
    private struct Entry {
        var client: DNSClient?
        var until: Date
    }

    private struct Cache {
        var entries: [String: Entry] = [:]
        /// Tokens cached for each device, so that `forget` does not scan every entry.
        var tokensByDevice: [UUID: Set<String>] = [:]
    }

    private let cache = NIOLockedValueBox(Cache())
    private let seconds: TimeInterval
    private let capacity = 200_000

    init(seconds: TimeInterval = 10) {
        self.seconds = seconds
    }

    /// Tokens are 27 characters of `[a-z2-7]` after an `r`; anything else is unknown without a query.
    static func isWellFormed(_ token: Substring) -> Bool {
        token.utf8.count == 27 && token.utf8.first == UInt8(ascii: "r")
            && token.utf8.allSatisfy { ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "2") && $0 <= UInt8(ascii: "7")) }
    }

    func client(for rawToken: Substring, on database: any Database, now: Date = Date()) async throws -> DNSClient? {
        let token = rawToken.lowercased()
        guard Self.isWellFormed(Substring(token)) else { return nil }
        if let hit = cache.withLockedValue({ $0.entries[token] }), hit.until > now { return hit.client }
        let row = try await ResolverTokenModel.query(on: database).filter(\.$token == token).first()
        let client = row.map { DNSClient(enterpriseID: $0.enterpriseID, deviceID: $0.revokedAt == nil ? $0.deviceID : nil) }
        cache.withLockedValue { cache in
            if cache.entries.count >= capacity { cache = Cache() }
            cache.entries[token] = Entry(client: client, until: now.addingTimeInterval(seconds))
            if let deviceID = client?.deviceID { cache.tokensByDevice[deviceID, default: []].insert(token) }
        }
        return client
    }

    /// Drops what this process cached for a device's tokens (its rotation or revocation applies
    /// here at once; other replicas see it when their entry expires).
    func forget(deviceID: UUID) {
        cache.withLockedValue { cache in
            for token in cache.tokensByDevice.removeValue(forKey: deviceID) ?? [] { cache.entries[token] = nil }
        }
    }
}

/// `{ResolverToken}` for the built-in UEM's DNS settings profiles: the active token of the MTD
/// device linked to that UEM device (by its UEM id, else its UDID); empty before activation.
struct ResolverTokenLookups: UEMLookupSource {
    let database: @Sendable () -> any Database

    func values(udid: String, uemDeviceID: Int) async throws -> [String: String] {
        let database = self.database()
        var device = try await DeviceModel.query(on: database).filter(\.$uemDeviceID == uemDeviceID).filter(\.$activationStatus == .activated).first()
        if device == nil, !udid.isEmpty {
            device = try await DeviceModel.query(on: database).filter(\.$udid == udid).filter(\.$activationStatus == .activated).first()
        }
        guard let deviceID = device?.id else { return ["ResolverToken": ""] }
        return ["ResolverToken": try await ResolverTokens.active(deviceID: deviceID, on: database) ?? ""]
    }
}
