import Foundation
import NIOHTTP1
import Testing
import Vapor

/// Admin-supplied UEM addresses pass the egress policy: cloud metadata and link-local addresses are
/// refused whatever the settings say, tests may reach only this machine, and a UEM that redirects
/// is not followed.
@Suite(.serialized) struct EgressTests {
    let api = IntegrationAPITests()

    @Test func refusedAddressesAreNeverContacted() async throws {
        let uem = try await UEMServer.start()
        do {
            let login = try await uem.sendMTD(.POST, "/api/v1/auth/login", json: ["email": "admin@openmtd.local", "password": "owner-password-1234"])
            let token = try #require(login.json["token"] as? String)
            for url in ["http://169.254.169.254/API", "http://[fe80::1]/API", "http://metadata.google.internal/API", "http://192.0.2.10/API"] {
                let reply = try await api.admin(uem, .PUT, "/api/v1/integrations/uem", token: token, json: [
                    "kind": "workspace-one", "baseURL": url, "tenantCode": "X", "username": "u", "password": "p",
                ])
                #expect(reply.status == 422, "\(url): \(reply.text)")
                #expect(api.error(reply)["code"] as? String == "egress_refused", "\(url): \(reply.text)")
                #expect(api.error(reply)["field"] as? String == "$.baseURL")
            }
            // The OAuth token URL is checked too.
            let reply = try await api.admin(uem, .POST, "/api/v1/integrations/uem/test", token: token, json: [
                "kind": "workspace-one", "baseURL": uem.baseURL + "/API", "tenantCode": uem.tenantCode,
                "oauth": ["tokenURL": "http://169.254.169.254/connect/token", "clientID": "c", "clientSecret": "s"],
            ])
            #expect(reply.status == 422, "\(reply.text)")
            #expect((api.error(reply)["message"] as? String)?.contains("egress policy refuses http://169.254.169.254/connect/token") == true, "\(reply.text)")
            #expect(api.error(reply)["field"] as? String == "$.oauth.tokenURL")
        } catch {
            try? await uem.stop()
            throw error
        }
        try await uem.stop()
    }

    @Test func aRedirectIsReportedNotFollowed() async throws {
        // A "UEM" that sends every call to the metadata address.
        let trap = try await Application.make(Environment(name: "testing", arguments: ["vapor"]))
        trap.http.server.configuration.port = 0
        trap.logger.logLevel = .critical
        trap.get("**") { req -> Response in
            req.redirect(to: "http://169.254.169.254/latest/meta-data/", redirectType: .temporary)
        }
        let port: Int
        let uem: UEMServer
        do {
            try await trap.startup()
            port = try #require(trap.http.server.shared.localAddress?.port)
            uem = try await UEMServer.start()
        } catch {
            try? await trap.asyncShutdown()
            throw error
        }
        do {
            let login = try await uem.sendMTD(.POST, "/api/v1/auth/login", json: ["email": "admin@openmtd.local", "password": "owner-password-1234"])
            let token = try #require(login.json["token"] as? String)
            let reply = try await api.admin(uem, .POST, "/api/v1/integrations/uem/test", token: token, json: [
                "kind": "workspace-one", "baseURL": "http://127.0.0.1:\(port)/API", "tenantCode": "X", "username": "u", "password": "p",
            ])
            #expect(reply.text.contains("redirected"), "\(reply.text)")
            #expect(reply.text.contains("not followed"), "\(reply.text)")
            #expect(reply.status == 502, "\(reply.text)")
        } catch {
            try? await uem.stop()
            try? await trap.asyncShutdown()
            throw error
        }
        try await uem.stop()
        try await trap.asyncShutdown()
    }
}
