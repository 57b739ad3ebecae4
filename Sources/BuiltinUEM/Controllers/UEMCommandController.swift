import Fluent
import Foundation
import Vapor

/// Workspace ONE device commands and push messages:
/// `POST /API/mdm/devices/{id}/commands?command=Lock|EnterpriseWipe|DeviceWipe|SyncDevice`, the
/// same by alternate id (`POST /API/mdm/devices/commands?command=…&searchby=Udid&id=…`), and
/// `POST /API/mdm/devices/{id}/messages/push` / `POST /API/mdm/devices/messages/push?searchby=…&id=…`
/// with `{"MessageBody","Application","MessageType"}`. Each answers 202 with no body, queues the
/// command for the device and records a UEM event; a wipe marks the device EnterpriseWipePending or
/// DeviceWipePending, so it leaves the enrolled devices (and every smart group) at once.
enum UEMCommandController {
    static let commands = ["Lock", "EnterpriseWipe", "DeviceWipe", "SyncDevice"]

    static func byID(_ req: Request) async throws -> HTTPStatus {
        try req.uem.require(.devices, .edit)
        let command = try commandName(req)
        try await queue(command, detail: nil, device: try await UEMDeviceController.find(req), req)
        return .accepted
    }

    static func byAlternateID(_ req: Request) async throws -> HTTPStatus {
        try req.uem.require(.devices, .edit)
        let command = try commandName(req)
        try await queue(command, detail: nil, device: try await searched(req), req)
        return .accepted
    }

    struct MessageBody: Content {
        var MessageBody: String
        var Application: String?
        var MessageType: String?
    }

    static func pushByID(_ req: Request) async throws -> HTTPStatus {
        try req.uem.require(.devices, .edit)
        let device = try await UEMDeviceController.find(req)
        try await queue("Message", detail: try message(req), device: device, req)
        return .accepted
    }

    static func pushByAlternateID(_ req: Request) async throws -> HTTPStatus {
        try req.uem.require(.devices, .edit)
        let text = try message(req)
        try await queue("Message", detail: text, device: try await searched(req), req)
        return .accepted
    }

    /// OpenMTD's own read of the queue (Workspace ONE shows it in its console): newest first.
    static func list(_ req: Request) async throws -> Response {
        try req.uem.require(.devices, .read)
        let device = try await UEMDeviceController.find(req, wipePending: true)
        let rows = try await UEMDeviceCommand.query(on: req.db).filter(\.$deviceID == (device.id ?? -1)).sort(\.$id, .descending).limit(500).all()
        struct Item: Content {
            var Id: Int
            var Command: String
            var Status: String
            var Detail: String?
            var QueuedBy: String
            var QueuedOn: String
            var DeliveredOn: String?
            var CompletedOn: String?
        }
        struct Body: Content {
            var Commands: [Item]
        }
        return try await Body(Commands: rows.map {
            Item(Id: $0.id ?? 0, Command: $0.command, Status: $0.status, Detail: $0.detail, QueuedBy: $0.queuedBy, QueuedOn: WS1Date.string($0.queuedAt),
                 DeliveredOn: $0.deliveredAt.map { WS1Date.string($0) }, CompletedOn: $0.completedAt.map { WS1Date.string($0) })
        }).encodeResponse(for: req)
    }

    private static func commandName(_ req: Request) throws -> String {
        guard let raw = req.query[String.self, at: "command"], !raw.isEmpty else {
            throw UEMError.invalid("command is required: one of \(commands.joined(separator: ", ")).")
        }
        guard let command = commands.first(where: { $0.caseInsensitiveCompare(raw) == .orderedSame }) else {
            throw UEMError.invalid("command must be one of \(commands.joined(separator: ", ")), not \(raw.prefix(100)).")
        }
        return command
    }

    private static func message(_ req: Request) throws -> String {
        let body = try req.content.decode(MessageBody.self)
        let text = body.MessageBody.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, text.count <= 2_000 else { throw UEMError.invalid("MessageBody must be 1 to 2000 characters.") }
        return text
    }

    /// The enrolled device `searchby` and `id` name (DeviceId, Udid, SerialNumber, MacAddress, ImeiNumber).
    private static func searched(_ req: Request) async throws -> UEMDevice {
        try await UEMDeviceSearch.find(req)
    }

    private static func queue(_ command: String, detail: String?, device: UEMDevice, _ req: Request) async throws {
        let principal = try req.uem
        guard let deviceID = device.id else { throw UEMError.notFound("Device") }
        try await req.db.uemChange { tx in
            let row = UEMDeviceCommand()
            row.deviceID = deviceID
            row.command = command
            row.status = "Queued"
            row.detail = detail
            row.queuedBy = principal.username
            row.queuedAt = Date()
            try await row.create(on: tx)
            let pending = ["EnterpriseWipe": "EnterpriseWipePending", "DeviceWipe": "DeviceWipePending"][command]
            if let pending {
                try await UEMDevice.query(on: tx).filter(\.$id == deviceID).set(\.$enrollmentStatus, to: pending).update()
            }
            try await UEMEvent(eventType: command == "Message" ? "MessageQueued" : "DeviceCommandQueued", deviceID: deviceID,
                               detail: command, eventTime: row.queuedAt).create(on: tx)
        }
    }
}
