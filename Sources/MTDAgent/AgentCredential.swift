import Foundation

/// What activation gives the agent: its device id and the bearer credential for check-ins.
public struct AgentCredential: Codable, Sendable, Equatable {
    public var deviceID: String
    public var credential: String
    /// The server the credential belongs to; a different server means activating again.
    public var server: String

    public init(deviceID: String, credential: String, server: String) {
        self.deviceID = deviceID
        self.credential = credential
        self.server = server
    }
}

/// Where the credential lives: the Keychain on iOS, a file only its owner can read on Linux.
public protocol CredentialStore: Sendable {
    func load() throws -> AgentCredential?
    func save(_ credential: AgentCredential) throws
    func clear() throws
}

/// A JSON file with mode 0600, replaced atomically.
public struct FileCredentialStore: CredentialStore {
    public let url: URL

    public init(url: URL) {
        self.url = url
    }

    public func load() throws -> AgentCredential? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let data = try Data(contentsOf: url)
        do {
            return try JSONDecoder().decode(AgentCredential.self, from: data)
        } catch {
            // A damaged credential file is as good as none: the agent activates again.
            return nil
        }
    }

    public func save(_ credential: AgentCredential) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = url.appendingPathExtension("tmp")
        // Created with its final mode, so the secret is never readable by others, not even briefly.
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw AgentError.storage("\(temporary.path): cannot be created")
        }
        let handle = try FileHandle(forWritingTo: temporary)
        try handle.write(contentsOf: try JSONEncoder().encode(credential))
        try handle.close()
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: temporary.path)
        // rename(2) replaces the old file atomically: a crash leaves the old credential or the new one.
        guard rename(temporary.path, url.path) == 0 else {
            throw AgentError.storage("\(url.path): cannot be replaced (errno \(errno))")
        }
    }

    public func clear() throws {
        if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
    }
}

/// For simulated fleets and tests: nothing reaches the disk.
public final class MemoryCredentialStore: CredentialStore, @unchecked Sendable {
    private let lock = NSLock()
    private var credential: AgentCredential?

    public init(_ credential: AgentCredential? = nil) {
        self.credential = credential
    }

    public func load() throws -> AgentCredential? {
        lock.withLock { credential }
    }

    public func save(_ credential: AgentCredential) throws {
        lock.withLock { self.credential = credential }
    }

    public func clear() throws {
        lock.withLock { credential = nil }
    }
}

#if canImport(Security) && !os(macOS)
import Security

/// The iOS Keychain, readable after the first unlock (check-ins run in the background).
public struct KeychainCredentialStore: CredentialStore {
    public let service: String

    public init(service: String = "org.openmtd.agent") {
        self.service = service
    }

    private var query: [String: Any] {
        [kSecClass as String: kSecClassGenericPassword, kSecAttrService as String: service, kSecAttrAccount as String: "credential"]
    }

    public func load() throws -> AgentCredential? {
        var search = query
        search[kSecReturnData as String] = true
        var item: CFTypeRef?
        let status = SecItemCopyMatching(search as CFDictionary, &item)
        guard status == errSecSuccess, let data = item as? Data else { return nil }
        return try? JSONDecoder().decode(AgentCredential.self, from: data)
    }

    public func save(_ credential: AgentCredential) throws {
        let data = try JSONEncoder().encode(credential)
        SecItemDelete(query as CFDictionary)
        var add = query
        add[kSecValueData as String] = data
        add[kSecAttrAccessible as String] = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
        let status = SecItemAdd(add as CFDictionary, nil)
        guard status == errSecSuccess else { throw AgentError.storage("Keychain refused the credential (OSStatus \(status))") }
    }

    public func clear() throws {
        SecItemDelete(query as CFDictionary)
    }
}
#endif
