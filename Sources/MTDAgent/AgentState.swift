import Foundation
import MTDCore

/// What the agent remembers between check-ins and restarts: the inventory the server has, and the
/// interval it asked for.
public struct AgentState: Codable, Sendable, Equatable {
    /// The inventory version the server accepted last; nil before the first complete inventory.
    public var inventoryVersion: Int?
    /// App id → the app as last accepted (its JSON), to compute deltas.
    public var acceptedApps: [String: String] = [:]
    /// The server asked for a complete inventory.
    public var fullInventoryRequired = false
    public var checkInIntervalSeconds = 900
    /// Evicted outbox events already reported in the log.
    public var evictionsReported = 0

    public init() {}
}

public protocol AgentStateStore: Sendable {
    func load() throws -> AgentState
    func save(_ state: AgentState) throws
}

public struct FileAgentStateStore: AgentStateStore {
    public let url: URL

    public init(url: URL) {
        self.url = url
    }

    public func load() throws -> AgentState {
        guard let data = try? Data(contentsOf: url) else { return AgentState() }
        // A damaged state costs one complete inventory, nothing more.
        return (try? JSONDecoder().decode(AgentState.self, from: data)) ?? AgentState()
    }

    public func save(_ state: AgentState) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try JSONEncoder().encode(state).write(to: url, options: .atomic)
    }
}

public final class MemoryAgentStateStore: AgentStateStore, @unchecked Sendable {
    private let lock = NSLock()
    private var state = AgentState()

    public init() {}

    public func load() throws -> AgentState { lock.withLock { state } }
    public func save(_ state: AgentState) throws { lock.withLock { self.state = state } }
}

/// Which inventory to send: complete the first time and when the server asks, a delta when apps
/// changed, nothing when they did not. Pure.
public enum InventoryPlanner {
    public struct Plan: Sendable, Equatable {
        /// nil: nothing changed, the check-in carries no inventory.
        public var inventory: AppInventory?
        /// The state to keep once the server accepts the check-in.
        public var acceptedApps: [String: String]
        public var version: Int?
    }

    public static func plan(apps: [InstalledApp], state: AgentState) -> Plan {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var current: [String: String] = [:]
        for app in apps {
            current[app.id] = (try? encoder.encode(app)).map { String(decoding: $0, as: UTF8.self) } ?? app.id
        }
        guard let version = state.inventoryVersion, !state.fullInventoryRequired else {
            let next = (state.inventoryVersion ?? 0) + 1
            return Plan(inventory: AppInventory(inventoryVersion: next, complete: true, installed: apps.sorted { $0.id < $1.id }),
                        acceptedApps: current, version: next)
        }
        let changed = apps.filter { current[$0.id] != state.acceptedApps[$0.id] }.sorted { $0.id < $1.id }
        let removed = state.acceptedApps.keys.filter { current[$0] == nil }.sorted()
        guard !changed.isEmpty || !removed.isEmpty else { return Plan(inventory: nil, acceptedApps: state.acceptedApps, version: version) }
        return Plan(inventory: AppInventory(inventoryVersion: version + 1, complete: false, installed: changed, removed: removed.isEmpty ? nil : removed),
                    acceptedApps: current, version: version + 1)
    }
}
