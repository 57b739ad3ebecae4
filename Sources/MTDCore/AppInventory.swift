/// The apps part of a check-in: either the whole inventory (`complete`) or a delta since the previous version.
public struct AppInventory: Codable, Sendable, Equatable {
    public var inventoryVersion: Int
    public var complete: Bool
    public var installed: [InstalledApp]?
    public var removed: [String]?

    public init(inventoryVersion: Int, complete: Bool, installed: [InstalledApp]? = nil, removed: [String]? = nil) {
        self.inventoryVersion = inventoryVersion
        self.complete = complete
        self.installed = installed
        self.removed = removed
    }
}

public enum AppSource: String, Codable, Sendable, CaseIterable {
    case appStore = "APP_STORE"
    case playStore = "PLAY_STORE"
    case enterprise = "ENTERPRISE"
    case sideloaded = "SIDELOADED"
    case system = "SYSTEM"
    case unknown = "UNKNOWN"
}

public struct InstalledApp: Codable, Sendable, Equatable {
    /// Android package name or iOS bundle id.
    public var id: String
    public var name: String?
    public var version: String?
    public var source: AppSource?
    /// SHA-1 of the signing certificate (Android); on the wire hex, any case, colons allowed.
    public var signerSha1: HexDigest?
    /// SHA-256 of the signing certificate.
    public var signerSha256: HexDigest?
    /// SHA-256 of the package file.
    public var sha256: HexDigest?
    public var permissions: [String]?

    public init(
        id: String, name: String? = nil, version: String? = nil, source: AppSource? = nil,
        signerSha1: HexDigest? = nil, signerSha256: HexDigest? = nil, sha256: HexDigest? = nil, permissions: [String]? = nil
    ) {
        self.id = id
        self.name = name
        self.version = version
        self.source = source
        self.signerSha1 = signerSha1
        self.signerSha256 = signerSha256
        self.sha256 = sha256
        self.permissions = permissions
    }
}
