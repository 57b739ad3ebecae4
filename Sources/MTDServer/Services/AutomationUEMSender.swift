import FluentKit
import Foundation
import MTDAutomations
import MTDStore
import UEMClient
import Vapor

/// Automations' way to the UEM: the UEM the device's enterprise is connected to (saved settings,
/// the configured tenant, or the built-in UEM) and the device's id there, as device sync linked it.
/// Any replica can send: this does not depend on the UEM-sync lease or on this replica's connection.
struct AutomationUEMSender: UEMCommandSending {
    let app: Application
    let services: MTDServices

    func send(_ action: AutomationRule.UEMAction, toDevice deviceID: UUID, on database: any Database) async throws(UEMCommandFailure) {
        let (connector, uemDeviceID, mapping) = try await target(deviceID, on: database)
        do {
            switch action.command {
            case .lock: try await connector.sendCommand(.lock, device: uemDeviceID)
            case .enterpriseWipe: try await connector.sendCommand(.enterpriseWipe, device: uemDeviceID)
            case .deviceWipe: try await connector.sendCommand(.deviceWipe, device: uemDeviceID)
            case .syncDevice: try await connector.sendCommand(.syncDevice, device: uemDeviceID)
            case .message: try await connector.sendMessage(action.message ?? "", device: uemDeviceID)
            case .addTag, .removeTag:
                let name = (action.tag ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                if mapping.entries.contains(where: { $0.tag.caseInsensitiveCompare(name) == .orderedSame }) {
                    throw UEMCommandFailure("the tag \(name) is one of the MTD's mapped tags, which tag sync sets and clears; use a tag of its own")
                }
                let tagID: Int
                if let known = try await connector.tags().first(where: { $0.name.caseInsensitiveCompare(name) == .orderedSame }) {
                    tagID = known.id
                } else if action.command == .addTag {
                    tagID = try await connector.createTag(named: name)
                } else {
                    return  // Nothing carries a tag the UEM does not have.
                }
                let result = action.command == .addTag
                    ? try await connector.addDevices([uemDeviceID], toTag: tagID)
                    : try await connector.removeDevices([uemDeviceID], fromTag: tagID)
                if let failure = result.faults.first?.value { throw UEMCommandFailure("the UEM refused the tag change: \(failure)") }
            case .setThreatLevel:
                let level: UEMThreatLevel = switch action.level ?? .none {
                case .none: .none
                case .low: .low
                case .medium: .medium
                case .high: .high
                }
                let result = try await connector.reportThreatLevel(level, devices: [uemDeviceID])
                if let failure = result.faults.first?.value { throw UEMCommandFailure("the UEM refused the threat level: \(failure)") }
                let writes = services.writes
                try await writes.run { try await ThreatLevelPins.pin(level.rawValue, device: deviceID, at: Date(), on: database) }
            }
        } catch let failure as UEMCommandFailure {
            throw failure
        } catch {
            throw UEMCommandFailure("the UEM did not accept \(action.command.rawValue): \(error)")
        }
    }

    func groups(ofDevice deviceID: UUID, smartGroups: [Int], on database: any Database) async throws(UEMCommandFailure) -> DeviceGroups {
        let (connector, uemDeviceID, _) = try await target(deviceID, on: database)
        do {
            let tags = try await connector.tagNames(ofDevice: uemDeviceID)
            var member = Set<Int>()
            for group in smartGroups where try await connector.members(ofSmartGroup: group).contains(uemDeviceID) {
                member.insert(group)
            }
            return DeviceGroups(tags: Set(tags), smartGroups: member)
        } catch {
            throw UEMCommandFailure("the UEM did not say which groups the device is in: \(error)")
        }
    }

    private func target(_ deviceID: UUID, on database: any Database) async throws(UEMCommandFailure) -> (any UEMConnector, Int, TagMapping) {
        do {
            guard let device = try await DeviceModel.find(deviceID, on: database) else { throw UEMCommandFailure("the device is no longer in OpenMTD") }
            let settings = try await UEMIntegrationSettings.load(enterpriseID: device.$enterprise.id, configuration: services.configuration, on: database)
            guard let uemDeviceID = device.uemDeviceID, device.uemConnection == settings.connectionKey else {
                throw UEMCommandFailure("the device is not linked to a device in \(settings.address) (device sync links it once the UEM lists it)")
            }
            guard let connector = try await settings.connector(app: app, services: services, purpose: .automation) else {
                throw UEMCommandFailure("\(settings.address) is not reachable from this server yet")
            }
            return (connector, uemDeviceID, settings.mapping)
        } catch let failure as UEMCommandFailure {
            throw failure
        } catch {
            throw UEMCommandFailure("cannot find the device's UEM: \(error)")
        }
    }
}
