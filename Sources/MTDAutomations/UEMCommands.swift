import FluentKit
import Foundation

/// How automations reach the UEM: the server gives them one (it knows which UEM each enterprise is
/// connected to and the device's id there). Any replica can send, so this does not depend on which
/// replica holds the UEM-sync lease.
public protocol UEMCommandSending: Sendable {
    /// Sends the action to the UEM device linked to the MTD device; the error says what failed.
    func send(_ action: AutomationRule.UEMAction, toDevice deviceID: UUID, on database: any Database) async throws(UEMCommandFailure)
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
