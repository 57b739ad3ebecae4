import Foundation

/// A configuration on the device that a management party installed: a VPN, Wi-Fi or e-mail profile.
public struct ManagedProfile: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case vpn, wifi, email, contentFilter
    }

    public var identifier: String
    public var kind: Kind
    /// Who installed it, e.g. `com.airwatch` for the MDM or the agent's own identifier.
    public var owner: String
    public var name: String

    public init(identifier: String, kind: Kind, owner: String, name: String) {
        self.identifier = identifier
        self.kind = kind
        self.owner = owner
        self.name = name
    }
}

/// The device's configuration store, behind a protocol: NetworkExtension preferences on iOS, the
/// VpnService on Android, an in-memory store in tests and simulation.
public protocol ManagedConfigurationStore: Sendable {
    func profiles() async -> [ManagedProfile]
    func install(_ profile: ManagedProfile) async throws
    func remove(identifier: String) async throws
}

public actor MemoryConfigurationStore: ManagedConfigurationStore {
    private var items: [ManagedProfile]

    public init(_ profiles: [ManagedProfile] = []) {
        items = profiles
    }

    public func profiles() -> [ManagedProfile] { items }

    public func install(_ profile: ManagedProfile) {
        items.removeAll { $0.identifier == profile.identifier }
        items.append(profile)
    }

    public func remove(identifier: String) {
        items.removeAll { $0.identifier == identifier }
    }
}

/// The only way the agent touches device configuration. It never removes or changes a profile it
/// did not install: an MDM-pushed VPN (e.g. Workspace ONE Tunnel) stays exactly as it is, even when
/// the agent's own content-protection VPN comes and goes.
public struct AgentProfileGuard: Sendable {
    public let store: any ManagedConfigurationStore
    /// The agent's owner identifier; only profiles with it are the agent's.
    public let owner: String

    public init(store: any ManagedConfigurationStore, owner: String = "org.openmtd.agent") {
        self.store = store
        self.owner = owner
    }

    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        case notOwned(identifier: String, owner: String)

        public var description: String {
            switch self {
            case .notOwned(let identifier, let owner): "profile \(identifier) belongs to \(owner); the agent leaves it alone"
            }
        }
    }

    /// Installs (or refreshes) one of the agent's own profiles. An identifier that another party's
    /// profile already uses is refused rather than overwritten.
    public func install(identifier: String, kind: ManagedProfile.Kind, name: String) async throws {
        if let existing = await store.profiles().first(where: { $0.identifier == identifier }), existing.owner != owner {
            throw Refusal.notOwned(identifier: identifier, owner: existing.owner)
        }
        try await store.install(ManagedProfile(identifier: identifier, kind: kind, owner: owner, name: name))
    }

    public func remove(identifier: String) async throws {
        guard let existing = await store.profiles().first(where: { $0.identifier == identifier }) else { return }
        guard existing.owner == owner else { throw Refusal.notOwned(identifier: identifier, owner: existing.owner) }
        try await store.remove(identifier: identifier)
    }

    /// Deactivation and uninstall clean-up: the agent's profiles go, everyone else's stay.
    public func removeOwnProfiles() async throws -> [String] {
        var removed: [String] = []
        for profile in await store.profiles() where profile.owner == owner {
            try await store.remove(identifier: profile.identifier)
            removed.append(profile.identifier)
        }
        return removed
    }
}
