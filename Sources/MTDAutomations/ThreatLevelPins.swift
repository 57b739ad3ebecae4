import FluentKit
import Foundation
import MTDStore

/// A compliance threat level an automation set (`setThreatLevel`): it holds until the device next
/// checks in, and compliance sync reports it instead of the level the device's risk gives. Without
/// the pin, the next reconciliation (drift repair runs over every device) would put back the
/// MTD's own level and a silent device would regain access: fail closed must hold while it is silent.
public final class ThreatLevelPinModel: Model, @unchecked Sendable {
    public static let schema = "automation_threat_level_pins"

    @ID(key: .id) public var id: UUID?
    @Field(key: "device_id") public var deviceID: UUID
    /// The UEM's spelling (`High`).
    @Field(key: "level") public var level: String
    @Field(key: "pinned_at") public var pinnedAt: Date

    public init() {}
}

struct AUT003_CreateThreatLevelPins: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ThreatLevelPinModel.schema)
            .id()
            .field("device_id", .uuid, .required)
            .field("level", .string, .required)
            .field("pinned_at", .datetime, .required)
            .unique(on: "device_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ThreatLevelPinModel.schema).delete()
    }
}

public enum ThreatLevelPins {
    /// The pins that still hold for these devices: set after the device's last check-in.
    public static func active(for devices: [DeviceModel], on database: any Database) async throws -> [UUID: String] {
        let ids = devices.compactMap(\.id)
        guard !ids.isEmpty else { return [:] }
        let pins = try await ThreatLevelPinModel.query(on: database).filter(\.$deviceID ~~ ids).all()
        guard !pins.isEmpty else { return [:] }
        let lastCheckIn = Dictionary(devices.compactMap { device in device.id.map { ($0, device.lastCheckInAt) } }, uniquingKeysWith: { first, _ in first })
        var active: [UUID: String] = [:]
        for pin in pins {
            let checkedIn = lastCheckIn[pin.deviceID] ?? nil
            if checkedIn.map({ $0 < pin.pinnedAt }) ?? true { active[pin.deviceID] = pin.level }
        }
        return active
    }

    /// Records the level an automation reported for the device (replacing an earlier pin).
    public static func pin(_ level: String, device deviceID: UUID, at date: Date, on database: any Database) async throws {
        try await database.transaction { tx in
            try await ThreatLevelPinModel.query(on: tx).filter(\.$deviceID == deviceID).delete()
            let pin = ThreatLevelPinModel()
            pin.deviceID = deviceID
            pin.level = level
            pin.pinnedAt = date
            try await pin.create(on: tx)
            // What the UEM holds now, so compliance sync does not report over it at once.
            try await DeviceModel.query(on: tx).filter(\.$id == deviceID).set(\.$uemThreatLevel, to: level).update()
        }
    }
}
