import FluentKit
import Foundation
import MTDCore
import MTDStore

/// Turns stored events into what rules match on. A THREAT event carries the threat; its device's
/// platform and mode are read from the devices table, once per batch.
enum EventFacts {
    static let kinds: [EventType] = [.threat, .device]

    static func build(_ events: [EventModel], on database: any Database) async throws -> [AutomationEvent] {
        let decoder = JSONDecoder()
        var threats: [Int: ThreatPayload] = [:]
        var devicesOfThreats = Set<UUID>()
        for event in events where event.type == EventType.threat.rawValue {
            guard let payload = try? decoder.decode(ThreatPayload.self, from: Data(event.payload.utf8)) else { continue }
            threats[event.id ?? 0] = payload
            if let device = UUID(uuidString: payload.device_guid) { devicesOfThreats.insert(device) }
        }
        var devices: [UUID: DeviceModel] = [:]
        if !devicesOfThreats.isEmpty {
            for device in try await DeviceModel.query(on: database).filter(\.$id ~~ Array(devicesOfThreats)).all() {
                if let id = device.id { devices[id] = device }
            }
        }
        var facts: [AutomationEvent] = []
        for event in events {
            guard let position = event.id else { continue }
            switch event.type {
            case EventType.threat.rawValue:
                // A payload that cannot be read is not a threat any rule can be sure of.
                guard let threat = threats[position] else { continue }
                let deviceID = UUID(uuidString: threat.device_guid)
                let device = deviceID.flatMap { devices[$0] }
                facts.append(AutomationEvent(
                    position: position, enterpriseID: event.enterpriseID, kind: .threat, change: event.changeType, createdAt: event.createdAt,
                    deviceID: deviceID, threatID: UUID(uuidString: threat.guid),
                    classification: threat.classifications.first.flatMap(ThreatClassification.init(rawValue:)),
                    severity: Severity(rawValue: threat.severity), threatType: ThreatType(rawValue: threat.type),
                    threatStatus: ThreatStatus(rawValue: threat.status),
                    platform: device.flatMap { Platform(rawValue: $0.platform) }, mode: device?.mode.flatMap(DeploymentMode.init(rawValue:)),
                    connection: device?.connectionStatus, security: device?.securityStatus))
            case EventType.device.rawValue:
                guard let device = try? decoder.decode(DevicePayload.self, from: Data(event.payload.utf8)) else { continue }
                facts.append(AutomationEvent(
                    position: position, enterpriseID: event.enterpriseID, kind: .device, change: event.changeType, createdAt: event.createdAt,
                    deviceID: UUID(uuidString: device.guid), platform: Platform(rawValue: device.platform),
                    mode: device.client.mode.flatMap(DeploymentMode.init(rawValue:)),
                    connection: ConnectionStatus(rawValue: device.status.connection_status), security: SecurityStatus(rawValue: device.status.security_status),
                    changedAttributes: device.changed_attributes ?? []))
            default:
                continue
            }
        }
        return facts
    }
}
