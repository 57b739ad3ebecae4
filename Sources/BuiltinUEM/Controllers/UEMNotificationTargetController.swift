import Fluent
import Foundation
import Vapor

/// `/API/system/eventnotifications` (an OpenMTD addition: Workspace ONE configures event
/// notifications in its console): list, add and remove targets. Passwords are never shown again.
enum UEMNotificationTargetController {
    struct CreateRequest: Content {
        var Name: String
        var TargetUrl: String
        var Username: String
        var Password: String
        var Format: String?
    }

    struct Item: Content {
        var Id: WS1Id
        var Name: String
        var TargetUrl: String
        var Username: String
        var Format: String
        var LastDeliveredOn: String?
        var LastError: String?
    }

    static func list(_ req: Request) async throws -> Response {
        try req.uem.require(.devices, .read)
        let targets = try await UEMNotificationTarget.query(on: req.db).sort(\.$id).all()
        return try UEMPaging.response("EventNotifications", items: targets.map { target in
            Item(Id: WS1Id(Value: target.id ?? 0), Name: target.name, TargetUrl: target.url, Username: target.username, Format: "JSON",
                 LastDeliveredOn: target.lastDeliveredAt.map(WS1Date.string), LastError: target.lastError)
        }, total: targets.count, page: 0, size: max(1, targets.count), for: req)
    }

    static func create(_ req: Request) async throws -> Response {
        try req.uem.require(.devices, .edit)
        let body = try req.content.decode(CreateRequest.self)
        let name = body.Name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 100 else { throw UEMError.invalid("Name must be 1 to 100 characters.") }
        guard let url = URL(string: body.TargetUrl), url.scheme == "https" || url.scheme == "http", url.host != nil, body.TargetUrl.count <= 2_000 else {
            throw UEMError.invalid("TargetUrl must be an http or https URL.")
        }
        guard (body.Format ?? "JSON").uppercased() == "JSON" else { throw UEMError.invalid("Format must be JSON; XML notifications are not sent.") }
        guard try await UEMNotificationTarget.query(on: req.db).filter(\.$name == name).first() == nil else {
            throw UEMError(status: .badRequest, errorCode: 1002, message: "An event notification named \(name) already exists.")
        }
        try await UEMEventNotifications.register(.init(name: name, url: body.TargetUrl, username: body.Username, password: body.Password), on: req.db)
        let id = try await UEMNotificationTarget.query(on: req.db).filter(\.$name == name).first()?.id ?? 0
        return try await WS1Id(Value: id).encodeResponse(status: .created, for: req)
    }

    static func delete(_ req: Request) async throws -> HTTPStatus {
        try req.uem.require(.devices, .edit)
        guard let id = req.parameters.get("id", as: Int.self), let target = try await UEMNotificationTarget.find(id, on: req.db) else {
            throw UEMError.notFound("Event notification")
        }
        try await target.delete(on: req.db)
        return .noContent
    }
}
