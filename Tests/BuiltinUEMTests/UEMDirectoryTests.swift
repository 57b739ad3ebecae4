import AsyncHTTPClient
import Foundation
@testable import MTDServer
import MTDStore
import NIOCore
import NIOHTTP1
import Testing
import UEMClient

/// Organization groups, enrollment users, app configuration with lookup values, OAuth clients and
/// TLS: the parts of the built-in UEM a Workspace ONE admin expects to find.
@Suite(.serialized) struct UEMDirectoryTests {
    let story = MTDToUEMTests()

    func rootGroup(_ uem: UEMServer) async throws -> Int {
        let reply = try await uem.send(.GET, "/API/system/groups/search")
        return try #require(((reply.json["LocationGroups"] as? [[String: Any]])?.first?["Id"] as? [String: Any])?["Value"] as? Int)
    }

    func id(_ reply: UEMServer.Reply) -> Int? {
        (reply.json["Id"] as? [String: Any])?["Value"] as? Int ?? reply.json["Value"] as? Int
    }

    @Test(arguments: UEMTestDatabase.available) func organizationGroupsScopeDevicesUsersAndSmartGroups(_ database: UEMTestDatabase) async throws {
        let uem = try await UEMServer.start(database)
        do {
            let root = try await rootGroup(uem)
            var reply = try await uem.send(.POST, "/API/system/groups/\(root)", json: ["Name": "Sales", "GroupId": "sales"])
            #expect(reply.status == 201, "\(reply.text)")
            let sales = try #require(id(reply))
            // The whole subtree, the group itself included (Workspace ONE's v1 answer), each child
            // naming its parent as {"Id":{"Value"},"Uuid"}.
            reply = try await uem.send(.GET, "/API/system/groups/\(root)/children")
            let subtree = try #require(try JSONSerialization.jsonObject(with: reply.body) as? [[String: Any]], "\(reply.text)")
            #expect(subtree.compactMap { $0["Name"] as? String } == ["OpenMTD", "Sales"], "\(reply.text)")
            let parent = try #require(subtree.last?["ParentLocationGroup"] as? [String: Any], "\(reply.text)")
            #expect((parent["Id"] as? [String: Any])?["Value"] as? Int == root)
            #expect((parent["Uuid"] as? String)?.count == 36, "\(parent)")
            #expect(subtree.first?["ParentLocationGroup"] == nil || subtree.first?["ParentLocationGroup"] is NSNull)

            reply = try await uem.send(.POST, "/API/mdm/devices/enroll", json: ["Udid": "hq-1", "Platform": "Apple", "UserName": "ann", "UserEmailAddress": "ann@example.com"])
            let hq = try #require(id(reply))
            reply = try await uem.send(.POST, "/API/mdm/devices/enroll", json: ["Udid": "sales-1", "Platform": "Android", "UserName": "bob", "LocationGroupId": sales])
            let field = try #require(id(reply))
            #expect(((reply.json["EnrollmentUserId"] as? [String: Any])?["Value"] as? Int) != nil, "enrollment creates the user")

            // Smart groups on an organization group include the groups below it.
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "Everyone", "OrganizationGroups": [["Id": root]]])
            let everyone = try #require(reply.json["SmartGroupID"] as? Int)
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "Sales devices", "OrganizationGroups": [["Id": sales]]])
            let salesGroup = try #require(reply.json["SmartGroupID"] as? Int)
            reply = try await uem.send(.GET, "/API/mdm/smartgroups/\(everyone)/devices")
            // Items in Workspace ONE's SmartGroupDevice shape: the id as a string.
            #expect(Set((reply.json["Devices"] as? [[String: Any]])?.compactMap { ($0["Id"] as? String).flatMap { Int($0) } } ?? []) == [hq, field], "\(reply.text)")
            #expect((reply.json["Devices"] as? [[String: Any]])?.allSatisfy { $0["Platform"] is String && $0["Username"] is String && $0["Ownership"] is String } == true)
            reply = try await uem.send(.GET, "/API/mdm/smartgroups/\(salesGroup)/devices")
            #expect((reply.json["Devices"] as? [[String: Any]])?.compactMap { ($0["Id"] as? String).flatMap { Int($0) } } == [field])

            // An admin of Sales uses the parent's API key and sees only Sales.
            reply = try await uem.send(.POST, "/API/system/roles", json: ["Name": "Sales helpdesk", "Permissions": ["Devices": "Read", "Users": "Edit", "Groups": "Read"]])
            let role = try #require(id(reply))
            reply = try await uem.send(.POST, "/API/system/admins/addadmin", json: ["UserName": "sales_admin", "Password": "sales-admin-pass-1", "RoleId": role, "LocationGroupId": sales])
            #expect(reply.status == 201, "\(reply.text)")
            reply = try await uem.send(.GET, "/API/mdm/devices/search", user: "sales_admin", password: "sales-admin-pass-1")
            #expect((reply.json["Devices"] as? [[String: Any]])?.compactMap { $0["Udid"] as? String } == ["sales-1"])
            reply = try await uem.send(.GET, "/API/mdm/devices/search?lgid=\(root)", user: "sales_admin", password: "sales-admin-pass-1")
            #expect(reply.status == 403)
            reply = try await uem.send(.GET, "/API/mdm/devices/search?lgid=\(sales)")
            #expect((reply.json["Devices"] as? [[String: Any]])?.count == 1, "the root admin narrows to a subtree with lgid")

            // Sales gets its own API key: good for its admins, not for the root's.
            reply = try await uem.send(.POST, "/API/system/apikeys", json: ["Name": "Sales key", "LocationGroupId": sales])
            let salesKey = try #require(reply.json["TenantCode"] as? String)
            reply = try await uem.send(.GET, "/API/mdm/devices/search", user: "sales_admin", password: "sales-admin-pass-1", tenant: salesKey)
            #expect(reply.status == 200)
            reply = try await uem.send(.GET, "/API/mdm/devices/search", tenant: salesKey)
            #expect(reply.status == 403)
            #expect(reply.json["errorCode"] as? Int == 1013)

            // Apps per device.
            reply = try await uem.send(.PUT, "/API/mdm/devices/\(field)/apps", json: ["DeviceApps": [
                ["ApplicationIdentifier": "com.whatsapp", "ApplicationName": "WhatsApp", "Version": "2.24"],
                ["ApplicationIdentifier": "com.airwatch.androidagent", "ApplicationName": "Intelligent Hub", "Type": "Managed"],
            ]])
            #expect(reply.status == 204, "\(reply.text)")
            reply = try await uem.send(.GET, "/API/mdm/devices/\(field)/apps")
            #expect((reply.json["DeviceApps"] as? [[String: Any]])?.compactMap { $0["ApplicationName"] as? String } == ["Intelligent Hub", "WhatsApp"])
            reply = try await uem.send(.GET, "/API/mdm/devices/\(hq)/apps")
            #expect(reply.status == 204, "no apps reported: an empty search")

            // Enrollment users: listed with their device counts, protected while devices are enrolled.
            reply = try await uem.send(.GET, "/API/system/users/search?username=bob")
            let bob = try #require((reply.json["Users"] as? [[String: Any]])?.first)
            #expect(bob["EnrolledDevicesCount"] as? String == "1")
            let bobID = try #require((bob["Id"] as? [String: Any])?["Value"] as? Int)
            // D8: one user by its numeric id or its UUID (Workspace ONE's v2 path).
            let bobUUID = try #require(bob["Uuid"] as? String)
            for path in ["/API/system/users/\(bobID)", "/API/system/users/\(bobUUID)"] {
                reply = try await uem.send(.GET, path)
                #expect(reply.status == 200 && reply.json["UserName"] as? String == "bob", "\(path): \(reply.text)")
            }
            reply = try await uem.send(.GET, "/API/system/users/\(UUID().uuidString)")
            #expect(reply.status == 404)
            reply = try await uem.send(.DELETE, "/API/system/users/\(bobID)")
            #expect(reply.status == 400)
            #expect(reply.json["message"] as? String == "User bob has 1 enrolled device(s); unenroll them first.")
            reply = try await uem.send(.POST, "/API/system/users/adduser", json: ["UserName": "carol", "Email": "carol@example.com", "Status": "Inactive"])
            #expect(reply.status == 201)
            reply = try await uem.send(.POST, "/API/mdm/devices/enroll", json: ["Udid": "carol-1", "Platform": "Apple", "UserName": "carol"])
            #expect(reply.status == 400)
            #expect(reply.json["message"] as? String == "User carol is inactive and cannot enroll devices.")
            reply = try await uem.send(.POST, "/API/system/users/adduser", json: ["UserName": "dave", "Email": "not-an-address"])
            #expect(reply.json["message"] as? String == "Email not-an-address is not an e-mail address.")
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }

    @Test func appConfigurationResolvesLookupValuesPerDevice() async throws {
        let uem = try await UEMServer.start()
        do {
            var reply = try await uem.send(.POST, "/API/mdm/devices/enroll", json: [
                "Udid": "UDID-42", "Platform": "Android", "UserName": "jo", "UserEmailAddress": "jo@example.com", "SerialNumber": "SN42",
            ])
            let device = try #require(id(reply))
            let uuid = try #require(reply.json["Uuid"] as? String)
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "All Android", "Platforms": ["Android"]])
            let all = try #require(reply.json["SmartGroupID"] as? Int)
            reply = try await uem.send(.POST, "/API/mdm/appconfigurations", json: [
                "Name": "Hub MTD", "Kind": "HubCustomSettings", "AssignedSmartGroups": [all],
                "Settings": ["mtdSettings": ["isEnabled": true, "enrollmentCode": "ENR-1", "externalId": "{DeviceUuid}"]],
            ])
            #expect(reply.status == 201, "\(reply.text)")
            reply = try await uem.send(.POST, "/API/mdm/appconfigurations", json: [
                "Name": "Agent app config", "Kind": "ManagedAppConfig", "Application": "org.openmtd.agent", "AssignedSmartGroups": [all],
                "Settings": ["DEVICE_UDID": "{DeviceUid}", "EMAIL": "{EmailAddress}", "MDM": "AirWatch", "GLOBAL_ENROLLMENT_CODE": "ENR-1",
                             "SERIAL": "{DeviceSerialNumber}", "USER": "{EnrollmentUser}", "LABEL": "{deviceuid}-{Unknown"],
            ])
            #expect(reply.status == 201, "\(reply.text)")

            reply = try await uem.send(.GET, "/API/mdm/devices/\(device)/appconfigurations")
            let hub = try #require(reply.json["HubCustomSettings"] as? [String: Any])
            let mtd = try #require(hub["mtdSettings"] as? [String: Any])
            #expect(mtd["isEnabled"] as? Bool == true)
            #expect(mtd["enrollmentCode"] as? String == "ENR-1")
            #expect(mtd["externalId"] as? String == uuid)
            let app = try #require((reply.json["ManagedAppConfigs"] as? [[String: Any]])?.first)
            #expect(app["Application"] as? String == "org.openmtd.agent")
            let values = try #require(app["Values"] as? [String: String])
            #expect(values == ["DEVICE_UDID": "UDID-42", "EMAIL": "jo@example.com", "MDM": "AirWatch", "GLOBAL_ENROLLMENT_CODE": "ENR-1",
                               "SERIAL": "SN42", "USER": "jo", "LABEL": "UDID-42-{Unknown"])

            // A device outside the smart group receives nothing.
            reply = try await uem.send(.POST, "/API/mdm/devices/enroll", json: ["Udid": "ios-1", "Platform": "Apple", "UserName": "kim"])
            let other = try #require(id(reply))
            reply = try await uem.send(.GET, "/API/mdm/devices/\(other)/appconfigurations")
            #expect(reply.json["HubCustomSettings"] is NSNull)
            #expect((reply.json["ManagedAppConfigs"] as? [Any])?.isEmpty == true)

            // Typos are refused before they reach a device.
            reply = try await uem.send(.POST, "/API/mdm/appconfigurations", json: [
                "Name": "Typo", "Kind": "ManagedAppConfig", "Application": "org.openmtd.agent", "AssignedSmartGroups": [all], "Settings": ["EMAIL": "{EmailAdress}"],
            ])
            #expect(reply.status == 400)
            #expect(reply.json["message"] as? String == "Unknown lookup value {EmailAdress}; did you mean {EmailAddress}?")
            reply = try await uem.send(.POST, "/API/mdm/appconfigurations", json: [
                "Name": "Nested", "Kind": "ManagedAppConfig", "Application": "org.openmtd.agent", "AssignedSmartGroups": [all], "Settings": ["A": ["B": "C"]],
            ])
            #expect((reply.json["message"] as? String)?.hasPrefix("Settings.A: managed app config values are strings, numbers or booleans") == true)
            reply = try await uem.send(.POST, "/API/mdm/appconfigurations", json: ["Name": "No app", "Kind": "ManagedAppConfig", "AssignedSmartGroups": [all], "Settings": [:] as [String: Any]])
            #expect(reply.json["message"] as? String == "A managed app config needs the Application (bundle id or package name) it configures.")
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }

    @Test func oauthClientsGetBearerTokensAndTheMTDConnectsWithThem() async throws {
        let uem = try await UEMServer.start()
        do {
            let prepared = try await story.prepare(uem)
            var reply = try await uem.send(.POST, "/API/system/roles", json: ["Name": "MTD OAuth", "Permissions": [
                "Admins": "Read", "Devices": "Read", "Groups": "Read", "Users": "Read", "BulkManagement": "Edit", "Tags": "Edit",
            ]])
            let role = try #require(id(reply))
            reply = try await uem.send(.POST, "/API/system/oauthclients", json: ["Name": "OpenMTD", "RoleId": role])
            #expect(reply.status == 201, "\(reply.text)")
            let clientID = try #require(reply.json["ClientId"] as? String)
            let secret = try #require(reply.json["ClientSecret"] as? String)

            // The token endpoint speaks RFC 6749.
            func token(_ form: String) async throws -> UEMServer.Reply {
                var request = HTTPClientRequest(url: uem.baseURL + "/connect/token")
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                request.body = .bytes(ByteBuffer(string: form))
                let response = try await uem.client.execute(request, timeout: .seconds(10))
                return UEMServer.Reply(status: Int(response.status.code), body: Data(buffer: try await response.body.collect(upTo: 1 << 20)))
            }
            reply = try await token("grant_type=password&client_id=\(clientID)&client_secret=\(secret)")
            #expect(reply.status == 400)
            #expect(reply.json["error"] as? String == "unsupported_grant_type")
            reply = try await token("grant_type=client_credentials&client_id=\(clientID)&client_secret=wrong")
            #expect(reply.status == 401)
            #expect(reply.json["error"] as? String == "invalid_client")
            reply = try await token("grant_type=client_credentials&client_id=\(clientID)&client_secret=\(secret)")
            #expect(reply.json["token_type"] as? String == "Bearer")
            #expect(reply.json["expires_in"] as? Int == 3600)

            // The Workspace ONE client with OAuth: tags and bulk calls under the client's role.
            let oauth = WorkspaceOneClient.OAuth(tokenURL: uem.baseURL + "/connect/token", clientID: clientID, clientSecret: secret)
            let client = WorkspaceOneClient(settings: .init(baseURL: uem.baseURL + "/API", tenantCode: uem.tenantCode, username: "", password: "", oauth: oauth))
            let tag = try await client.createTag(named: "OAuth made this")
            #expect(try await client.tags().contains { $0.id == tag })
            let bad = WorkspaceOneClient(settings: .init(baseURL: uem.baseURL + "/API", tenantCode: uem.tenantCode, username: "", password: "",
                                                         oauth: .init(tokenURL: oauth.tokenURL, clientID: clientID, clientSecret: "nope")))
            do {
                _ = try await bad.tags()
                Issue.record("expected the token request to fail")
            } catch {
                #expect(error == .credentials("OAuth client \(clientID): invalid_client: unknown client or wrong secret"))
            }

            // The admin API saves an OAuth connection after testing it.
            reply = try await uem.sendMTD(.POST, "/api/v1/auth/login", json: ["email": "admin@openmtd.local", "password": "owner-password-1234"])
            let session = try #require(reply.json["token"] as? String)
            var request = HTTPClientRequest(url: uem.baseURL + "/api/v1/integrations/uem")
            request.method = .PUT
            request.headers.add(name: "Authorization", value: "Bearer \(session)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: [
                "kind": "workspace-one", "baseURL": uem.baseURL + "/API", "tenantCode": prepared.settings.tenantCode, "createMissingTags": true,
                "oauth": ["tokenURL": oauth.tokenURL, "clientID": clientID, "clientSecret": secret],
            ])))
            let response = try await uem.client.execute(request, timeout: .seconds(30))
            let saved = UEMServer.Reply(status: Int(response.status.code), body: Data(buffer: try await response.body.collect(upTo: 1 << 20)))
            #expect(saved.status == 200, "\(saved.text)")
            #expect(saved.json["authentication"] as? String == "oauth")
            #expect(saved.json["connected"] as? Bool == true)
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }

    @Test func tlsServesHTTPSAndTheMTDReachesItsOwnUEMOverIt() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("openmtd-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let certificate = folder.appendingPathComponent("cert.pem").path, key = folder.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "2", "-subj", "/CN=localhost"]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0, "openssl could not make a test certificate")

        let uem = try await UEMServer.start { configuration in
            configuration.tlsCertificatePath = certificate
            configuration.tlsKeyPath = key
        }
        do {
            #expect(uem.baseURL.hasPrefix("https://"))
            let prepared = try await story.prepare(uem)
            #expect(prepared.settings.baseURL.hasPrefix("https://"))
            // The MTD's own connection to the built-in UEM goes over HTTPS too.
            let connected = try await UEMConnectionLifecycle.connect(app: uem.app, services: uem.app.mtd)
            #expect(connected)
            #expect(await uem.app.mtd.uemSync.current?.info.product == "OpenMTD built-in UEM")
            #expect(try await uem.app.mtd.uemSync.syncDevices(on: uem.app.db).seen == 1)
            // Plain HTTP gets no answer from an HTTPS-only server.
            let plain = HTTPClient(eventLoopGroupProvider: .singleton)
            await #expect(throws: (any Error).self) {
                _ = try await plain.execute(HTTPClientRequest(url: uem.baseURL.replacingOccurrences(of: "https://", with: "http://") + "/healthz"), timeout: .seconds(5))
            }
            try await plain.shutdown()
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }
}
