import AsyncHTTPClient
import FluentKit
import Foundation
@testable import MTDServer
import MTDCore
import MTDStore
import NIOCore
import ProtectiveDNS
import Testing
import UEMClient
import Vapor

/// The seed article's whole story over real HTTP between the MTD server and the built-in UEM.
@Suite(.serialized) struct MTDToUEMTests {
    struct Story {
        let uem: UEMServer
        let settings: WorkspaceOneClient.Settings
        let enterpriseID: UUID
        let enrollmentCode: String
    }

    /// Role and account for the MTD (the seed article's list), a device enrolled in the UEM, the
    /// High Risk smart group and the Tunnel profile excluded for it.
    func prepare(_ uem: UEMServer) async throws -> Story {
        var reply = try await uem.send(.POST, "/API/system/roles", json: ["Name": "MTD API", "Permissions": [
            "Admins": "Read", "Apps": "Read", "Devices": "Read", "Groups": "Read", "Users": "Read", "BulkManagement": "Edit", "Tags": "Edit",
        ]])
        let roleID = try #require((reply.json["Id"] as? [String: Any])?["Value"] as? Int)
        reply = try await uem.send(.POST, "/API/system/admins/addadmin", json: ["UserName": "mtd_api", "Password": "mtd-api-password-1", "RoleId": roleID])
        #expect(reply.status == 201)
        reply = try await uem.send(.POST, "/API/mdm/devices/enroll", json: [
            "Udid": "story-udid", "Platform": "Android", "Model": "Pixel 9", "OperatingSystem": "16", "UserName": "jo", "UserEmailAddress": "jo@example.com",
        ])
        #expect(reply.status == 201)
        let code = try #require(try await EnrollmentCodeModel.query(on: uem.app.db).filter(\.$revokedAt == nil).first())
        return Story(
            uem: uem,
            settings: .init(baseURL: uem.baseURL + "/API", tenantCode: uem.tenantCode, username: "mtd_api", password: "mtd-api-password-1", timeoutSeconds: 10, maxAttempts: 2),
            enterpriseID: code.$enterprise.id, enrollmentCode: code.code)
    }

    func uemTags(_ uem: UEMServer, deviceID: Int) async throws -> Set<String> {
        let reply = try await uem.send(.GET, "/API/mdm/devices/\(deviceID)/tags")
        return Set((reply.json["tags"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? [])
    }

    func uemProfiles(_ uem: UEMServer, deviceID: Int) async throws -> [String] {
        let reply = try await uem.send(.GET, "/API/mdm/devices/\(deviceID)/profiles")
        return reply.status == 204 ? [] : (reply.json["DeviceProfiles"] as? [[String: Any]])?.compactMap { $0["Name"] as? String } ?? []
    }

    /// Polls until `condition` holds; returns the seconds it took.
    func waitUntil(_ what: String, timeout: Double = 10, _ condition: () async throws -> Bool) async throws -> Double {
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            if try await condition() { return Date().timeIntervalSince(start) }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        Issue.record("timed out waiting until \(what)")
        return timeout
    }

    @Test(arguments: UEMTestDatabase.available) func threatsTakeTheTunnelProfileAwayAndGiveItBack(_ database: UEMTestDatabase) async throws {
        let uem = try await UEMServer.start(database)
        do {
            let story = try await prepare(uem)
            let sync = uem.app.mtd.uemSync
            let problems = try await sync.connect(WorkspaceOneClient(settings: story.settings), enterpriseID: story.enterpriseID, mapping: TagMapping(), createMissingTags: true)
            #expect(problems.isEmpty)

            // Devices sync as PENDING and get "MTD – Pending".
            let synced = try await sync.syncDevices(on: uem.app.db)
            #expect(synced.created == 1)
            let device = try #require(try await DeviceModel.query(on: uem.app.db).filter(\.$udid == "story-udid").first())
            #expect(device.activationStatus == .pending)
            let uemID = try #require(device.uemDeviceID)
            try await sync.reconcile(devices: nil, on: uem.app.db)
            #expect(try await uemTags(uem, deviceID: uemID) == ["MTD – Pending"])

            // The admin's smart groups and the Tunnel profile.
            let tags = try await WorkspaceOneClient(settings: story.settings).tags()
            let highRisk = try #require(tags.first { $0.name == "MTD – High Risk" }?.id)
            var reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "All Android", "Platforms": ["Android"]])
            let all = try #require(reply.json["SmartGroupID"] as? Int)
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "MTD High Risk", "Tags": [["Id": highRisk]]])
            let risky = try #require(reply.json["SmartGroupID"] as? Int)
            reply = try await uem.send(.POST, "/API/mdm/profiles", json: ["Name": "Workspace ONE Tunnel", "AssignedSmartGroups": [all], "ExcludedSmartGroups": [risky]])
            #expect(reply.status == 201)
            #expect(try await uemProfiles(uem, deviceID: uemID) == ["Workspace ONE Tunnel"])

            // The agent activates (same UDID): MTD – Activated and MTD – Secured.
            reply = try await uem.sendMTD(.POST, "/agent/v1/activate", json: ["enrollmentCode": story.enrollmentCode, "platform": "ANDROID", "mode": "EMBEDDED", "udid": "story-udid"])
            #expect(reply.status == 201, "\(reply.text)")
            let credential = try #require(reply.json["credential"] as? String)
            #expect(reply.json["deviceId"] as? String == device.id?.uuidString.lowercased(), "activation binds to the synced device")
            _ = try await waitUntil("activated tags") { try await uemTags(uem, deviceID: uemID) == ["MTD – Activated", "MTD – Secured"] }

            // A HIGH threat: High Risk tag, the device joins the smart group, Tunnel is removed.
            let checkIn: [String: Any] = [
                "schemaVersion": 1, "agent": ["mode": "EMBEDDED"], "device": ["platform": "ANDROID", "osVersion": "16", "securityPatchLevel": "2026-11-01"],
                "apps": ["inventoryVersion": 1, "complete": true, "installed": [["id": "com.apspy.app"]]],
            ]
            reply = try await uem.sendMTD(.POST, "/agent/v1/checkin", bearer: credential, json: checkIn)
            #expect(reply.json["securityStatus"] as? String == "THREATS_HIGH")
            let removal = try await waitUntil("Tunnel removed") { try await uemProfiles(uem, deviceID: uemID).isEmpty }
            _ = try await waitUntil("risk tags") { try await uemTags(uem, deviceID: uemID) == ["MTD – Activated", "MTD – Threats Present", "MTD – High Risk"] }

            // The threat resolves: the profile comes back.
            var clean = checkIn
            clean["apps"] = ["inventoryVersion": 2, "complete": true, "installed": [] as [Any]]
            reply = try await uem.sendMTD(.POST, "/agent/v1/checkin", bearer: credential, json: clean)
            #expect(reply.json["securityStatus"] as? String == "SECURE")
            _ = try await waitUntil("Tunnel back") { try await uemProfiles(uem, deviceID: uemID) == ["Workspace ONE Tunnel"] }
            _ = try await waitUntil("secured tags") { try await uemTags(uem, deviceID: uemID) == ["MTD – Activated", "MTD – Secured"] }
            print("threat to Tunnel removal: \(String(format: "%.3f", removal)) s (includes 20 ms polling)")

            // Someone removes a tag by hand in the UEM: drift repair puts it back. The automatic loop
            // stops first, and a reconciliation runs to its end (it waits for any pass in flight, which
            // could otherwise put the tag back before drift repair is what does it).
            uem.app.mtd.consumers.pause(UEMSync.cursorName)
            try await sync.reconcile(devices: nil, on: uem.app.db)
            let secured = try #require(tags.first { $0.name == "MTD – Secured" }?.id)
            reply = try await uem.send(.POST, "/API/mdm/tags/\(secured)/removedevices", json: ["BulkValues": ["Value": ["\(uemID)"]]])
            #expect(try await !uemTags(uem, deviceID: uemID).contains("MTD – Secured"))
            try await sync.repairDrift(on: uem.app.db)
            #expect(try await uemTags(uem, deviceID: uemID).contains("MTD – Secured"))
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }

    /// A phishing name the protective resolver blocks for a device (DoH with its resolver token)
    /// becomes a threat that reaches the built-in UEM's tags, and the Tunnel profile goes, with no
    /// agent report at all: the resolver sees what an embedded agent cannot.
    @Test func aBlockedDNSQueryReachesTheUEMsTags() async throws {
        // Blocked names need no upstream; a dead one is enough for this test.
        let uem = try await UEMServer.start(adjust: { configuration in
            configuration.dns.upstreams = [try? DNSUpstream(parsing: "udp://127.0.0.1:9")].compactMap { $0 }
        })
        do {
            let story = try await prepare(uem)
            let sync = uem.app.mtd.uemSync
            _ = try await sync.connect(WorkspaceOneClient(settings: story.settings), enterpriseID: story.enterpriseID, mapping: TagMapping(), createMissingTags: true)
            _ = try await sync.syncDevices(on: uem.app.db)
            let device = try #require(try await DeviceModel.query(on: uem.app.db).filter(\.$udid == "story-udid").first())
            let uemID = try #require(device.uemDeviceID)
            var reply = try await uem.sendMTD(.POST, "/agent/v1/activate", json: [
                "enrollmentCode": story.enrollmentCode, "platform": "ANDROID", "mode": "EMBEDDED", "udid": "story-udid",
            ])
            #expect(reply.status == 201, "\(reply.text)")
            let token = try #require(reply.json["resolverToken"] as? String)
            _ = try await waitUntil("activated tags") { try await uemTags(uem, deviceID: uemID) == ["MTD – Activated", "MTD – Secured"] }

            let name = try #require(DNSName("login.000.9.009.09.ekurbani.com"))
            reply = try await uem.sendDNS(token: token, DNSMessage.query(id: 7, name: name, type: .a).encoded())
            #expect(reply.status == 200)
            let answer = try DNSMessage(decoding: Array(reply.body))
            #expect(answer.responseCode == .nameError, "blocked")
            let seconds = try await waitUntil("risk tags from the resolver's threat") {
                let tags = try await uemTags(uem, deviceID: uemID)
                return tags.contains("MTD – Threats Present") && !tags.contains("MTD – Secured")
            }
            print("blocked DNS query to UEM tags: \(String(format: "%.3f", seconds)) s (includes 20 ms polling)")
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }

    /// A "DNS settings" profile gives each device its own resolver address through the
    /// `{ResolverToken}` lookup: Android gets Private DNS (DoT host), Apple the DNS Settings payload.
    @Test func dnsSettingsProfilesRenderEachDevicesResolverToken() async throws {
        let uem = try await UEMServer.start()
        do {
            let story = try await prepare(uem)
            let sync = uem.app.mtd.uemSync
            _ = try await sync.connect(WorkspaceOneClient(settings: story.settings), enterpriseID: story.enterpriseID, mapping: TagMapping(), createMissingTags: true)
            var reply = try await uem.send(.POST, "/API/mdm/devices/enroll", json: [
                "Udid": "story-iphone", "Platform": "Apple", "Model": "iPhone 16", "OperatingSystem": "18.1", "UserName": "jo", "UserEmailAddress": "jo@example.com",
            ])
            #expect(reply.status == 201)
            _ = try await sync.syncDevices(on: uem.app.db)
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "Everyone", "Platforms": ["Android", "Apple"]])
            let everyone = try #require(reply.json["SmartGroupID"] as? Int)

            // Payloads no device could use are refused, naming the field.
            reply = try await uem.send(.POST, "/API/mdm/profiles", json: ["Name": "DNS", "AssignedSmartGroups": [everyone],
                                                                          "DnsSettings": ["DNSProtocol": "HTTPS", "ServerName": "{ResolverToken}.dns.mtd.example.test"]])
            #expect(reply.status == 400 && reply.text.contains("ServerURL"), "\(reply.text)")
            reply = try await uem.send(.POST, "/API/mdm/profiles", json: ["Name": "DNS", "AssignedSmartGroups": [everyone],
                                                                          "DnsSettings": ["DNSProtocol": "HTTPS", "ServerURL": "https://mtd.example.test/dns-query/{ResolverToken}"]])
            #expect(reply.status == 400 && reply.text.contains("Android's Private DNS"), "a profile for any platform needs the DoT name: \(reply.text)")
            reply = try await uem.send(.POST, "/API/mdm/profiles", json: ["Name": "DNS", "Platform": "Apple", "AssignedSmartGroups": [everyone],
                                                                          "DnsSettings": ["DNSProtocol": "HTTPS", "ServerURL": "https://mtd.example.test/dns-query/{ResolverTokn}"]])
            #expect(reply.status == 400 && reply.text.contains("did you mean {ResolverToken}"), "\(reply.text)")

            reply = try await uem.send(.POST, "/API/mdm/profiles", json: ["Name": "Protective DNS", "AssignedSmartGroups": [everyone], "DnsSettings": [
                "DNSProtocol": "HTTPS", "ServerURL": "https://mtd.example.test/dns-query/{ResolverToken}",
                "ServerName": "{ResolverToken}.dns.mtd.example.test", "ProhibitDisablement": true,
            ]])
            #expect(reply.status == 201, "\(reply.text)")
            let profileID = try #require(reply.json["ProfileId"] as? Int)
            #expect((reply.json["DnsSettings"] as? [String: Any])?["DNSProtocol"] as? String == "HTTPS")

            var tokens: [String: String] = [:]
            for (udid, platform) in [("story-udid", "ANDROID"), ("story-iphone", "IOS")] {
                reply = try await uem.sendMTD(.POST, "/agent/v1/activate", json: ["enrollmentCode": story.enrollmentCode, "platform": platform, "mode": "EMBEDDED", "udid": udid])
                #expect(reply.status == 201, "\(reply.text)")
                tokens[udid] = try #require(reply.json["resolverToken"] as? String)
            }
            let android = try #require(try await DeviceModel.query(on: uem.app.db).filter(\.$udid == "story-udid").first()?.uemDeviceID)
            let iphone = try #require(try await DeviceModel.query(on: uem.app.db).filter(\.$udid == "story-iphone").first()?.uemDeviceID)

            reply = try await uem.send(.GET, "/API/mdm/devices/\(android)/profiles/\(profileID)/payload")
            #expect(reply.status == 200, "\(reply.text)")
            let privateDNS = ((reply.json["deviceConnectivityManagement"] as? [String: Any])?["privateDnsSettings"] as? [String: Any])
            #expect(privateDNS?["privateDnsMode"] as? String == "PRIVATE_DNS_SPECIFIED_HOST")
            #expect(privateDNS?["privateDnsHost"] as? String == "\(tokens["story-udid"] ?? "?").dns.mtd.example.test")

            reply = try await uem.send(.GET, "/API/mdm/devices/\(iphone)/profiles/\(profileID)/payload")
            #expect(reply.status == 200)
            let plist = try PropertyListSerialization.propertyList(from: reply.body, format: nil) as? [String: Any]
            let payload = (plist?["PayloadContent"] as? [[String: Any]])?.first
            #expect(payload?["PayloadType"] as? String == "com.apple.dnsSettings.managed")
            #expect(payload?["ProhibitDisablement"] as? Bool == true)
            let settings = payload?["DNSSettings"] as? [String: Any]
            #expect(settings?["DNSProtocol"] as? String == "HTTPS")
            #expect(settings?["ServerURL"] as? String == "https://mtd.example.test/dns-query/\(tokens["story-iphone"] ?? "?")")

            // A device outside the assignment has nothing to render.
            reply = try await uem.send(.POST, "/API/mdm/profiles", json: ["Name": "Tunnel", "AssignedSmartGroups": [everyone]])
            let plain = try #require(reply.json["ProfileId"] as? Int)
            reply = try await uem.send(.GET, "/API/mdm/devices/\(android)/profiles/\(plain)/payload")
            #expect(reply.status == 400, "\(reply.text)")
            reply = try await uem.send(.GET, "/API/mdm/devices/\(android)/profiles/999999/payload")
            #expect(reply.status == 404)
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }

    @Test func misconfigurationsAreReportedClearly() async throws {
        let uem = try await UEMServer.start()
        do {
            let story = try await prepare(uem)
            let sync = uem.app.mtd.uemSync
            var mapping = TagMapping()
            mapping.mediumRisk = "MTD – Moderate Risk"
            let client = WorkspaceOneClient(settings: story.settings)
            for name in ["MTD – Pending", "MTD – Activated", "MTD – Deactivated", "MTD – Unreachable", "MTD – Disconnected", "MTD – Threats Present",
                         "MTD – Low Risk", "MTD – Medium Risk", "MTD – High Risk", "MTD – Secured"] {
                _ = try await client.createTag(named: name)
            }
            let problems = try await sync.connect(client, enterpriseID: story.enterpriseID, mapping: mapping, createMissingTags: false)
            #expect(problems.map(\.description) == ["mediumRisk: the UEM has no tag \"MTD – Moderate Risk\"; did you mean \"MTD – Medium Risk\"?"])

            // An account whose role lacks Tags Edit: the connector says so.
            var reply = try await uem.send(.POST, "/API/system/roles", json: ["Name": "Read only", "Permissions": ["Tags": "Read", "Devices": "Read", "BulkManagement": "Edit"]])
            let roleID = try #require((reply.json["Id"] as? [String: Any])?["Value"] as? Int)
            reply = try await uem.send(.POST, "/API/system/admins/addadmin", json: ["UserName": "viewer", "Password": "viewer-password-12", "RoleId": roleID])
            var viewer = story.settings
            viewer.username = "viewer"
            viewer.password = "viewer-password-12"
            do {
                _ = try await WorkspaceOneClient(settings: viewer).addDevices([1], toTag: 1)
                Issue.record("expected a 403")
            } catch {
                #expect(error.description.contains("Tags Edit"))
                if case .forbidden = error {} else { Issue.record("expected .forbidden, got \(error)") }
            }
            var wrong = story.settings
            wrong.password = "nope"
            do {
                _ = try await WorkspaceOneClient(settings: wrong).tags()
                Issue.record("expected a 401")
            } catch {
                #expect(error == .credentials("An error occurred while validating remote service client credentials or user not found : mtd_api (errorCode 1005)"))
            }
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }
}

extension UEMServer {
    /// A call to the MTD's own APIs on the same server.
    func sendMTD(_ method: NIOHTTP1.HTTPMethod, _ path: String, bearer: String? = nil, json: Any? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: json)))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        return Reply(status: Int(response.status.code), body: Data(buffer: try await response.body.collect(upTo: 16 * 1024 * 1024)))
    }

    /// A DNS-over-HTTPS query (RFC 8484 POST) for the device holding `token`.
    func sendDNS(token: String, _ message: [UInt8]) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + "/dns-query/\(token)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/dns-message")
        request.body = .bytes(ByteBuffer(bytes: message))
        let response = try await client.execute(request, timeout: .seconds(30))
        return Reply(status: Int(response.status.code), body: Data(buffer: try await response.body.collect(upTo: 65_536)))
    }
}
