import FluentKit
import Foundation

/// How automations reach the UEM: the server gives them one (it knows which UEM each enterprise is
/// connected to and the device's id there). Any replica can send, so this does not depend on which
/// replica holds the UEM-sync lease.
public protocol UEMCommandSending: Sendable {
    /// Sends the action to the UEM device linked to the MTD device; the error says what failed.
    func send(_ action: AutomationRule.UEMAction, toDevice deviceID: UUID, on database: any Database) async throws(UEMCommandFailure)
    /// The device's UEM tags, and which of `smartGroups` it is a member of, as the UEM says now.
    func groups(ofDevice deviceID: UUID, smartGroups: [Int], on database: any Database) async throws(UEMCommandFailure) -> DeviceGroups
}

/// What a device-group filter is checked against.
public struct DeviceGroups: Sendable, Equatable {
    public var tags: Set<String>
    public var smartGroups: Set<Int>

    public init(tags: Set<String>, smartGroups: Set<Int>) {
        self.tags = tags
        self.smartGroups = smartGroups
    }

    /// At least one of the trigger's tags (case-insensitive) and at least one of its smart groups.
    public func satisfy(_ trigger: AutomationRule.Trigger) -> Bool {
        if let wanted = trigger.uemTags {
            let carried = Set(tags.map { $0.lowercased() })
            guard wanted.contains(where: { carried.contains($0.lowercased()) }) else { return false }
        }
        if let wanted = trigger.uemSmartGroups, !wanted.contains(where: smartGroups.contains) { return false }
        return true
    }
}

public struct UEMCommandFailure: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

extension Automations {
    /// Installs the server's way to the UEM (at startup).
    public func useUEM(_ sender: any UEMCommandSending) {
        uemSender.withLockedValue { $0 = sender }
    }

    /// Nil when the device is in the trigger's groups; else why the rule does not run.
    func deviceGroupMismatch(_ trigger: AutomationRule.Trigger, deviceID: UUID, on database: any Database) async -> String? {
        guard let sender = uemSender.withLockedValue({ $0 }) else { return "device groups unknown: no UEM is available to this server" }
        do {
            let groups = try await sender.groups(ofDevice: deviceID, smartGroups: trigger.uemSmartGroups ?? [], on: database)
            return groups.satisfy(trigger) ? nil : "the device is not in the rule's UEM tags or smart groups"
        } catch {
            return "device groups unknown: \(error.message)"
        }
    }

    func command(_ action: AutomationRule.UEMAction, execution: AutomationExecutionModel, on database: any Database) async -> ActionOutcome {
        guard let sender = uemSender.withLockedValue({ $0 }) else { return .failed("no UEM is available to this server", status: nil) }
        guard let deviceID = execution.deviceID else { return .failed("the event names no device", status: nil) }
        do {
            try await sender.send(action, toDevice: deviceID, on: database)
            return .succeeded(status: nil)
        } catch {
            return .failed(error.message, status: nil)
        }
    }
}
