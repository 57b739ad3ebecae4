import Foundation

/// Decodes and validates check-in documents. Everything the JSON schema states is enforced here, so
/// that detection can trust its input.
public struct CheckInDecoder: Sendable {
    /// Larger documents are refused before parsing; a full inventory of a heavily used phone is well under 1 MiB.
    public var maximumBytes: Int

    public init(maximumBytes: Int = 4 * 1024 * 1024) {
        self.maximumBytes = maximumBytes
    }

    public func decode(_ data: Data) throws(DocumentError) -> CheckIn {
        guard data.count <= maximumBytes else {
            throw DocumentError(path: "$", message: "document is \(data.count) bytes; the limit is \(maximumBytes)")
        }
        let checkIn: CheckIn
        do {
            checkIn = try JSONDecoder().decode(CheckIn.self, from: data)
        } catch {
            throw DocumentError(decoding: error)
        }
        try Self.validate(checkIn)
        return checkIn
    }

    /// The schema's constraints that Codable cannot express.
    public static func validate(_ checkIn: CheckIn) throws(DocumentError) {
        guard checkIn.schemaVersion == 1 else {
            throw DocumentError(path: "$.schemaVersion", message: "unsupported schema version \(checkIn.schemaVersion); this server reads version 1")
        }
        if let sentAt = checkIn.agent.sentAt, !Timestamp.isDateTime(sentAt) {
            throw DocumentError(path: "$.agent.sentAt", message: "expected an RFC 3339 date-time such as 2026-05-01T12:00:00Z, got \"\(sentAt)\"")
        }
        if checkIn.device.osVersion.trimmingCharacters(in: .whitespaces).isEmpty {
            throw DocumentError(path: "$.device.osVersion", message: "must not be empty")
        }
        if let level = checkIn.device.securityPatchLevel, Timestamp.day(level) == nil {
            throw DocumentError(path: "$.device.securityPatchLevel", message: "expected a date YYYY-MM-DD, got \"\(level)\"")
        }
        if let apps = checkIn.apps {
            if apps.inventoryVersion < 0 {
                throw DocumentError(path: "$.apps.inventoryVersion", message: "must be 0 or more")
            }
            for (index, app) in (apps.installed ?? []).enumerated() {
                if app.id.isEmpty {
                    throw DocumentError(path: "$.apps.installed[\(index)].id", message: "must not be empty")
                }
                if let digest = app.signerSha1, digest.kind != .sha1 {
                    throw DocumentError(path: "$.apps.installed[\(index)].signerSha1", message: "expected a SHA-1 (40 hex digits), got a SHA-256")
                }
                if let digest = app.signerSha256, digest.kind != .sha256 {
                    throw DocumentError(path: "$.apps.installed[\(index)].signerSha256", message: "expected a SHA-256 (64 hex digits), got a SHA-1")
                }
                if let digest = app.sha256, digest.kind != .sha256 {
                    throw DocumentError(path: "$.apps.installed[\(index)].sha256", message: "expected a SHA-256 (64 hex digits), got a SHA-1")
                }
            }
        }
        for (index, probe) in (checkIn.network?.tlsProbes ?? []).enumerated() where probe.host.isEmpty {
            throw DocumentError(path: "$.network.tlsProbes[\(index)].host", message: "must not be empty")
        }
        for (index, item) in (checkIn.activity ?? []).enumerated() {
            if item.host.isEmpty {
                throw DocumentError(path: "$.activity[\(index)].host", message: "must not be empty")
            }
            if let count = item.count, count < 1 {
                throw DocumentError(path: "$.activity[\(index)].count", message: "must be 1 or more")
            }
        }
        for (index, visit) in (checkIn.content ?? []).enumerated() {
            if visit.host.isEmpty {
                throw DocumentError(path: "$.content[\(index)].host", message: "must not be empty")
            }
            if let at = visit.at, !Timestamp.isDateTime(at) {
                throw DocumentError(path: "$.content[\(index)].at", message: "expected an RFC 3339 date-time, got \"\(at)\"")
            }
        }
    }
}
