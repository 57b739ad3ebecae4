import Fluent
import Foundation
import Vapor

/// The device side of the command queue (OpenMTD extension; in Workspace ONE the MDM protocol does
/// this): the device's MDM agent fetches its queued commands at check-in, which marks them
/// Delivered, and reports each one done, which marks it Completed. Each step records a UEM event
/// (DeviceCommandDelivered, DeviceCommandCompleted); a completed wipe unenrolls the device.
/// `openmtd simulate` and tests play the MDM agent with an API account that may edit devices.
enum UEMCommandLifecycle {
    struct Delivered: Content {
        struct Item: Content {
            var Id: Int
            var Command: String
            var Detail: String?
        }
        var Commands: [Item]
    }

    /// `POST /API/mdm/devices/{id}/commands/deliver`: the queued commands, oldest first, now Delivered.
    static func deliver(_ req: Request) async throws -> Delivered {
        try req.uem.require(.devices, .edit)
        let device = try await UEMDeviceController.find(req, wipePending: true)
        let deviceID = try device.requireID()
        let now = Date()
        let delivered = try await req.db.uemChange { tx -> [UEMDeviceCommand] in
            let queued = try await UEMDeviceCommand.query(on: tx).filter(\.$deviceID == deviceID).filter(\.$status == "Queued")
                .sort(\.$id, .ascending).limit(500).all()
            for command in queued {
                command.status = "Delivered"
                command.deliveredAt = now
                try await command.update(on: tx)
                try await UEMEvent(eventType: "DeviceCommandDelivered", deviceID: deviceID, detail: command.command, eventTime: now).create(on: tx)
            }
            try await UEMDevice.query(on: tx).filter(\.$id == deviceID).set(\.$lastSeen, to: now).update()
            return queued
        }
        return Delivered(Commands: delivered.map { .init(Id: $0.id ?? 0, Command: $0.command, Detail: $0.detail) })
    }

    /// `POST /API/mdm/devices/{id}/commands/{commandId}/complete`: a delivered command is done.
    static func complete(_ req: Request) async throws -> HTTPStatus {
        try req.uem.require(.devices, .edit)
        let device = try await UEMDeviceController.find(req, wipePending: true)
        let deviceID = try device.requireID()
        guard let commandID = req.parameters.get("commandId", as: Int.self) else { throw UEMError.notFound("Command") }
        let now = Date()
        try await req.db.uemChange { tx in
            guard let command = try await UEMDeviceCommand.query(on: tx).filter(\.$id == commandID).filter(\.$deviceID == deviceID).first() else {
                throw UEMError.notFound("Command")
            }
            switch command.status {
            case "Completed": return
            case "Delivered": break
            default: throw UEMError(status: .conflict, errorCode: 1000, message: "The command is \(command.status): the device completes a command after it was delivered (POST …/commands/deliver).")
            }
            command.status = "Completed"
            command.completedAt = now
            try await command.update(on: tx)
            try await UEMEvent(eventType: "DeviceCommandCompleted", deviceID: deviceID, detail: command.command, eventTime: now).create(on: tx)
            if command.command == "EnterpriseWipe" || command.command == "DeviceWipe" {
                try await UEMDeviceController.recordUnenrollment(deviceID, udid: device.udid, on: tx, at: now)
            }
        }
        return .noContent
    }
}
