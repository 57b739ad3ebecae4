import FluentKit
import Foundation
import MTDCore
import MTDServices
import MTDStore
import Vapor

/// Workspace ONE event notifications into OpenMTD: the UEM posts its notification JSON (enrolment,
/// unenrolment, compliance or attribute change) with Basic auth, and the MTD syncs that one device
/// at once instead of waiting for device sync. Periodic device sync stays the safety net.
enum UEMNotificationController {
    /// Owners make (or replace) the credential; the UEM sends the enterprise id as the user name.
    static func rotateCredential(_ req: Request) async throws -> Response {
        let principal = try req.admin
        try principal.require(\.canManageEnterprise, "make the UEM's event-notification credential")
        let password = Secrets.token(prefix: "mtdn_")
        let now = Date()
        try await req.application.mtd.writes.run {
            try await req.db.transaction { tx in
                try await UEMNotificationCredentialModel.query(on: tx).filter(\.$enterpriseID == principal.enterpriseID).delete()
                try await UEMNotificationCredentialModel(enterpriseID: principal.enterpriseID, passwordHash: Secrets.hash(password), createdAt: now).create(on: tx)
                try await EventLog.append([
                    .init(type: .audit, change: .created, actor: principal.actor, target: .init(type: "ADMIN", guid: principal.email),
                          payload: AuditPayload(type: "UEM_NOTIFICATION_CREDENTIAL", changes: [.init(name: "replaced", to: "true")]))
                ], enterpriseID: principal.enterpriseID, on: tx, now: now)
            }
        }
        let scheme = req.application.mtd.configuration.tlsCertificatePath == nil ? "http" : "https"
        let host = req.headers.first(name: .host) ?? "HOST"
        return try await UEMNotificationCredential(
            url: "\(scheme)://\(host)/api/v1/integrations/uem/notifications", username: principal.enterpriseID.uuidString.lowercased(),
            password: password, format: "JSON").encodeResponse(status: .created, for: req)
    }

    static func receive(_ req: Request) async throws -> UEMNotificationReceipt {
        let enterpriseID = try await authenticate(req)
        guard let buffer = req.body.data, buffer.readableBytes > 0,
              let object = try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any] else {
            throw APIError.badRequest("send one Workspace ONE event notification as a JSON object", field: "$")
        }
        let notification = WorkspaceOneNotification(object)
        guard notification.deviceUUID != nil || notification.udid != nil || notification.deviceID != nil else {
            return UEMNotificationReceipt(eventType: notification.eventType, outcome: "IGNORED")
        }
        let sync = req.application.mtd.uemSync
        let database = req.application.db
        let outcome = try await Deadline.run(seconds: 10) {
            try await sync.syncDevice(enterpriseID: enterpriseID, uuid: notification.deviceUUID, udid: notification.udid,
                                      uemDeviceID: notification.deviceID, on: database)
        }
        req.logger.info("UEM event notification", metadata: [
            "event": "\(notification.eventType ?? "?")", "uemDevice": "\(notification.deviceID.map(String.init) ?? "?")", "outcome": "\(outcome.rawValue)",
        ])
        return UEMNotificationReceipt(eventType: notification.eventType, outcome: outcome.rawValue)
    }

    /// Basic auth: the enterprise id and its notification secret.
    private static func authenticate(_ req: Request) async throws -> UUID {
        guard let basic = req.headers.basicAuthorization, let enterpriseID = UUID(uuidString: basic.username),
              let credential = try await UEMNotificationCredentialModel.query(on: req.db).filter(\.$enterpriseID == enterpriseID).first(),
              credential.passwordHash == Secrets.hash(basic.password)
        else {
            throw APIError.unauthorized("send the event-notification credential with Basic auth: the enterprise id and the password that "
                + "POST /api/v1/integrations/uem/notification-credential showed")
        }
        return enterpriseID
    }
}

/// The fields of a Workspace ONE event notification the MTD uses; read leniently, since tenants
/// differ in types (`DeviceId` as a number or a string).
struct WorkspaceOneNotification: Sendable, Equatable {
    var eventType: String?
    var deviceID: Int?
    var deviceUUID: String?
    var udid: String?
    var enrollmentStatus: String?

    init(_ object: [String: Any]) {
        func text(_ key: String) -> String? {
            let value = object.first { $0.key.caseInsensitiveCompare(key) == .orderedSame }?.value
            if let string = value as? String { return string.isEmpty ? nil : String(string.prefix(200)) }
            if let number = value as? NSNumber { return number.stringValue }
            return nil
        }
        eventType = text("EventType")
        deviceID = text("DeviceId").flatMap { Int($0) }
        // Kept as sent (the MTD stores the UEM's UUID as the UEM writes it), once it is one.
        deviceUUID = text("DeviceUUID").flatMap { UUID(uuidString: $0) == nil ? nil : $0 }
        udid = text("Udid")
        enrollmentStatus = text("EnrollmentStatus")
    }
}
