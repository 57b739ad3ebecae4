import Foundation
import MTDCore

/// The device and its posture as the platform reports them (OS version and patch level through
/// the OS, passcode and encryption state, compromise indicators, forensic extras).
public protocol PostureSource: Sendable {
    func device() async -> DeviceInfo
    func posture() async -> Posture?
    func diagnostics() async -> Diagnostics?
}

/// Installed apps (the package manager on Android; on iOS only what the MDM lets the agent see).
public protocol AppInventorySource: Sendable {
    /// nil when the platform does not let the agent see installed apps.
    func installedApps() async -> [InstalledApp]?
}

/// The network the device is on: Wi-Fi, TLS probes, anomalies.
public protocol NetworkSource: Sendable {
    func network() async -> NetworkObservation?
}

/// Everything the agent reads when it checks in. Network activity and web content are not read
/// but pushed as they happen (`Agent.record`), from the platform's network or content filter.
public typealias DeviceSource = PostureSource & AppInventorySource & NetworkSource

/// A check-in document as the device's state. Its activity and content are events, not state:
/// `initialEvents` hands them to the agent once.
public final class TemplateDeviceSource: DeviceSource, @unchecked Sendable {
    private let lock = NSLock()
    private var template: CheckIn

    public init(_ template: CheckIn) {
        self.template = template
    }

    /// Reads a check-in document; errors name the file and the JSON path.
    public convenience init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw AgentError.storage("\(url.path): cannot be read (\(error.localizedDescription))") }
        do {
            self.init(try CheckInDecoder().decode(data))
        } catch {
            throw AgentError.storage("\(url.path): \(error)")
        }
    }

    public var initialEvents: [AgentEvent] {
        lock.withLock { (template.activity ?? []).map(AgentEvent.activity) + (template.content ?? []).map(AgentEvent.content) }
    }

    /// Changes the device (the simulator installs and removes apps, changes posture).
    public func update(_ change: (inout CheckIn) -> Void) {
        lock.withLock { change(&template) }
    }

    public func device() async -> DeviceInfo { lock.withLock { template.device } }
    public func posture() async -> Posture? { lock.withLock { template.posture } }
    public func installedApps() async -> [InstalledApp]? { lock.withLock { template.apps?.installed } }
    public func network() async -> NetworkObservation? { lock.withLock { template.network } }
    public func diagnostics() async -> Diagnostics? { lock.withLock { template.diagnostics } }
}
