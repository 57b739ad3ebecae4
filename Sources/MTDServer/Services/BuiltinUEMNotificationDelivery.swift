import AsyncHTTPClient
import BuiltinUEM
import FluentKit
import Foundation
import Logging
import MTDServices
import MTDStore
import NIOCore
import NIOHTTP1
import UEMClient
import Vapor

/// The built-in UEM's event notifications to this server: at start it registers this server's own
/// notification endpoint as the target "OpenMTD" (with the first enterprise's notification
/// credential, kept while it still matches, so replicas do not undo each other), and every second
/// the replica holding the connection-sweeper lease delivers what is new. Other targets, which UEM
/// admins add, pass the egress policy.
enum BuiltinUEMNotificationDelivery {
    static let targetName = "OpenMTD"
    static let interval = 1.0

    /// False while the HTTP server has no address yet (it binds after the services start).
    static func registerSelf(app: Application, services: MTDServices) async throws -> Bool {
        guard let url = ownURL(app: app, services: services),
              let enterpriseID = try await EnterpriseModel.query(on: app.db).sort(\.$createdAt).first()?.id else { return false }
        let username = enterpriseID.uuidString.lowercased()
        let database = app.db
        try await services.writes.run {
            try await database.transaction { tx in
                let existing = try await UEMEventNotifications.target(named: targetName, on: tx)
                let credential = try await UEMNotificationCredentialModel.query(on: tx).filter(\.$enterpriseID == enterpriseID).first()
                var password = existing?.password ?? ""
                if credential == nil || existing == nil || credential?.passwordHash != Secrets.hash(password) {
                    password = Secrets.token(prefix: "mtdn_")
                    try await UEMNotificationCredentialModel.query(on: tx).filter(\.$enterpriseID == enterpriseID).delete()
                    try await UEMNotificationCredentialModel(enterpriseID: enterpriseID, passwordHash: Secrets.hash(password), createdAt: Date()).create(on: tx)
                }
                try await UEMEventNotifications.register(.init(name: targetName, url: url, username: username, password: password), on: tx)
            }
        }
        return true
    }

    static func run(app: Application, services: MTDServices, logger: Logger) async {
        let http = services.loopbackHTTP ?? HTTPClient.shared
        let egress = EgressGuard(policy: services.configuration.egressPolicy)
        let writes = services.writes
        var registered = false
        while !Task.isCancelled {
            do { try await Task.sleep(for: .seconds(registered ? interval : 0.2)) } catch { return }
            if !registered {
                do {
                    registered = try await registerSelf(app: app, services: services)
                } catch {
                    logger.error("could not register this server for the built-in UEM's event notifications; retrying (device sync links devices meanwhile)",
                                 metadata: ["error": "\(error)"])
                    continue
                }
            }
            guard services.consumers.holdsLease("connection-sweeper") else { continue }
            do {
                try await UEMEventNotifications.deliver(on: app.db, send: { url, username, password, body in
                    try await send(url, username: username, password: password, body: body, http: http, egress: egress, own: url == ownURL(app: app, services: services))
                }, serialize: { work in try await writes.run { try await work() } })
            } catch {
                logger.warning("event notification delivery failed; retrying", metadata: ["error": "\(error)"])
            }
        }
    }

    /// This server's own notification endpoint, as registered.
    static func ownURL(app: Application, services: MTDServices) -> String? {
        services.loopbackBaseURL(app: app).map { $0 + "/api/v1/integrations/uem/notifications" }
    }

    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    /// One POST; anything but 2xx is a failure, kept as the target's last error.
    static func send(_ url: String, username: String, password: String, body: Data, http: HTTPClient, egress: EgressGuard, own: Bool) async throws {
        // This server's own endpoint is not an admin-supplied address; every other target is.
        if !own { try await egress.check(url) }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Authorization", value: "Basic " + Data("\(username):\(password)".utf8).base64EncodedString())
        request.body = .bytes(ByteBuffer(data: body))
        // A target that cannot be reached fails within 5 s (the client retries connecting until then).
        let response = try await http.execute(request, timeout: .seconds(5))
        _ = try await response.body.collect(upTo: 1 << 16)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw Refused(description: "\(url) answered \(response.status.code)")
        }
    }
}
