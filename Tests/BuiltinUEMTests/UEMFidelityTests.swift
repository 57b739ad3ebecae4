import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

/// Workspace ONE fidelity (issue "Built-in UEM", point 4): the calls real Workspace ONE clients make,
/// with the status and shape the vendor's API answers.
@Suite(.serialized) struct UEMFidelityTests {
    @Test(arguments: UEMTestDatabase.available) func lookupsHelpSecuritySmartGroupsAndUnknownPaths(_ database: UEMTestDatabase) async throws {
        let uem = try await UEMServer.start(database)
        do {
            var reply = try await uem.send(.POST, "/API/mdm/devices/enroll", json: ["Udid": "fidelity-1", "Platform": "Android", "UserName": "ana"])
            let id = try #require((reply.json["Id"] as? [String: Any])?["Value"] as? Int, "\(reply.text)")

            // D10: the help page answers without credentials.
            reply = try await uem.sendRaw(.GET, "/API/help", headers: [:], body: nil)
            #expect(reply.status == 200 && reply.text.contains("/API/openapi.json"), "\(reply.text)")

            // D15: system/info with Basic auth and no tenant code; a wrong password is still a 401.
            let basic = "Basic " + Data("uemadmin:\(UEMServer.adminPassword)".utf8).base64EncodedString()
            reply = try await uem.sendRaw(.GET, "/API/system/info", headers: ["Authorization": basic, "Accept": "application/json"], body: nil)
            #expect(reply.status == 200 && reply.json["ProductName"] != nil, "\(reply.text)")
            reply = try await uem.sendRaw(.GET, "/API/system/info", headers: ["Authorization": "Basic " + Data("uemadmin:wrong".utf8).base64EncodedString()], body: nil)
            #expect(reply.status == 401, "\(reply.text)")
            // Without a tenant code nothing else is served.
            reply = try await uem.sendRaw(.GET, "/API/mdm/devices/search", headers: ["Authorization": basic], body: nil)
            #expect(reply.status == 403 && reply.json["errorCode"] as? Int == 1013, "\(reply.text)")

            // D3: DeviceSecurityInfo by id and by searchby.
            reply = try await uem.send(.GET, "/API/mdm/devices/\(id)/security")
            #expect(reply.status == 200 && reply.json["IsCompromised"] as? Bool == false, "\(reply.text)")
            reply = try await uem.send(.GET, "/API/mdm/devices/security?searchby=Udid&id=fidelity-1")
            #expect(reply.status == 200 && reply.json["IsCompromised"] as? Bool == false, "\(reply.text)")

            // D5: the device's smart groups, `{SmartGroup:[{SmartGroupId:{Value}, SmartGroupName}]}`.
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "Android phones", "Platforms": ["Android"]])
            let android = try #require(reply.json["SmartGroupID"] as? Int, "\(reply.text)")
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "iPhones", "Platforms": ["Apple"]])
            #expect(reply.status == 201)
            reply = try await uem.send(.GET, "/API/mdm/devices/\(id)/smartgroups")
            let groups = try #require(reply.json["SmartGroup"] as? [[String: Any]], "\(reply.text)")
            #expect(groups.count == 1)
            #expect((groups.first?["SmartGroupId"] as? [String: Any])?["Value"] as? Int == android)
            #expect(groups.first?["SmartGroupName"] as? String == "Android phones")

            // D9: a smart group is replaced and deleted; one a profile excludes cannot be deleted.
            reply = try await uem.send(.PUT, "/API/mdm/smartgroups/\(android)", json: ["Name": "Apple phones now", "Platforms": ["Apple"]])
            #expect(reply.status == 200 && reply.json["Name"] as? String == "Apple phones now", "\(reply.text)")
            reply = try await uem.send(.GET, "/API/mdm/devices/\(id)/smartgroups")
            #expect((reply.json["SmartGroup"] as? [Any])?.isEmpty == true, "the Android phone left the group: \(reply.text)")
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "High Risk", "Platforms": ["Android"]])
            let risky = try #require(reply.json["SmartGroupID"] as? Int)
            reply = try await uem.send(.POST, "/API/mdm/profiles", json: ["Name": "Tunnel", "AssignedSmartGroups": [android], "ExcludedSmartGroups": [risky]])
            #expect(reply.status == 201, "\(reply.text)")
            reply = try await uem.send(.DELETE, "/API/mdm/smartgroups/\(risky)")
            #expect(reply.status == 400 && (reply.json["message"] as? String)?.contains("in use by profile Tunnel") == true, "\(reply.text)")
            reply = try await uem.send(.PUT, "/API/mdm/smartgroups/\(risky)", json: ["Name": "High Risk", "Tags": [["Id": 987_654]]])
            #expect(reply.status == 400, "an unknown tag is refused: \(reply.text)")
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "Unused", "Platforms": ["Android"]])
            let unused = try #require(reply.json["SmartGroupID"] as? Int)
            reply = try await uem.send(.DELETE, "/API/mdm/smartgroups/\(unused)")
            #expect(reply.status == 204, "\(reply.text)")
            reply = try await uem.send(.GET, "/API/mdm/smartgroups/\(unused)")
            #expect(reply.status == 404)

            // D7 (v1 search): profiles by name and platform, paged, in `ProfileList`.
            reply = try await uem.send(.POST, "/API/mdm/profiles", json: ["Name": "Wi-Fi", "Platform": "Apple", "AssignedSmartGroups": [android]])
            #expect(reply.status == 201, "\(reply.text)")
            reply = try await uem.send(.GET, "/API/mdm/profiles/search?profilename=Tun")
            let found = try #require(reply.json["ProfileList"] as? [[String: Any]], "\(reply.text)")
            #expect(found.map { $0["ProfileName"] as? String } == ["Tunnel"] && (found.first?["ProfileUuid"] as? String)?.count == 36, "\(reply.text)")
            reply = try await uem.send(.GET, "/API/mdm/profiles/search?platform=Apple&pagesize=1")
            #expect((reply.json["ProfileList"] as? [[String: Any]])?.count == 1 && reply.json["Total"] as? Int == 1, "\(reply.text)")
            reply = try await uem.send(.GET, "/API/mdm/profiles/search?pagesize=1&page=1")
            #expect(reply.json["Total"] as? Int == 2 && (reply.json["ProfileList"] as? [[String: Any]])?.count == 1, "\(reply.text)")
            reply = try await uem.send(.GET, "/API/mdm/profiles/search?profilename=nothing-like-this")
            #expect(reply.status == 204)

            // /connect/token answers with Workspace ONE's content type.
            reply = try await uem.send(.POST, "/API/system/roles", json: ["Name": "OAuth", "Permissions": ["Devices": "Read"]])
            let role = try #require((reply.json["Id"] as? [String: Any])?["Value"] as? Int, "\(reply.text)")
            reply = try await uem.send(.POST, "/API/system/oauthclients", json: ["Name": "Fidelity", "RoleId": role])
            let clientID = try #require(reply.json["ClientId"] as? String), secret = try #require(reply.json["ClientSecret"] as? String)
            var request = HTTPClientRequest(url: uem.baseURL + "/connect/token")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: "grant_type=client_credentials&client_id=\(clientID)&client_secret=\(secret)"))
            let token = try await uem.client.execute(request, timeout: .seconds(10))
            #expect(token.status == .ok)
            #expect(token.headers.first(name: "Content-Type") == "application/json; charset=UTF-8")

            // D16 and D17: an unsupported path is a 404 that names it, in Workspace ONE's error body,
            // with or without credentials; a fixed sub-path is never read as a device id.
            for (method, path, authenticated) in [("GET", "/API/nothing/here", false), ("GET", "/API/mdm/devices/search/extra", true),
                                                  ("POST", "/API/mdm/devices/\(id)/frobnicate", true), ("DELETE", "/API/v1/unknown", false)] {
                reply = authenticated ? try await uem.send(method == "GET" ? .GET : method == "POST" ? .POST : .DELETE, path)
                    : try await uem.sendRaw(method == "GET" ? .GET : .DELETE, path, headers: [:], body: nil)
                #expect(reply.status == 404, "\(method) \(path): \(reply.text)")
                #expect(reply.json["errorCode"] as? Int == 404 && reply.json["activityId"] is String, "\(method) \(path): \(reply.text)")
                #expect((reply.json["message"] as? String)?.contains("\(method) \(path) is not a resource") == true, "\(reply.text)")
            }
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }

    /// D13: smart groups as the vendor's schema types them: ids as strings, the managing group as a
    /// string, operating systems as `{DeviceType, Operator, Value}`; a create answers `{"Value": id}`;
    /// a body error names its field.
    @Test(arguments: UEMTestDatabase.available) func smartGroupsAcceptTheVendorSchemaTypes(_ database: UEMTestDatabase) async throws {
        let uem = try await UEMServer.start(database)
        do {
            for (udid, platform, os) in [("os-17-4", "Apple", "17.4"), ("os-17-10", "Apple", "17.10.1"), ("os-16", "Apple", "16.7"), ("os-android", "Android", "17")] {
                let reply = try await uem.send(.POST, "/API/mdm/devices/enroll", json: ["Udid": udid, "Platform": platform, "OperatingSystem": os, "UserName": "u-\(udid)"])
                #expect(reply.status == 201, "\(reply.text)")
            }
            var reply = try await uem.send(.POST, "/API/mdm/tags/addtag", json: ["TagName": "Field"])
            let tag = try #require((reply.json["Value"] as? Int) ?? ((reply.json["Id"] as? [String: Any])?["Value"] as? Int), "\(reply.text)")
            reply = try await uem.send(.GET, "/API/system/groups/search")
            let root = try #require(((reply.json["LocationGroups"] as? [[String: Any]])?.first?["Id"] as? [String: Any])?["Value"] as? Int, "\(reply.text)")

            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: [
                "Name": "iOS 17.5 and later", "ManagedByOrganizationGroupId": "\(root)", "CriteriaType": "All",
                "OperatingSystems": [["DeviceType": "Apple", "Operator": "GreaterThanOrEqualTo", "Value": "17.5"]],
            ])
            #expect(reply.status == 201, "\(reply.text)")
            let modern = try #require(reply.json["Value"] as? Int, "a create answers {\"Value\": id}: \(reply.text)")
            reply = try await uem.send(.GET, "/API/mdm/smartgroups/\(modern)/devices")
            let members = (reply.json["Devices"] as? [[String: Any]])?.compactMap { $0["Name"] as? String } ?? []
            #expect(members.count == 1, "only 17.10.1 is at or above 17.5 (17.4 and 16.7 are not, the Android 17 is no Apple): \(reply.text)")

            // Ids as strings, in the tag and the device lists.
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "Tagged", "Tags": [["Id": "\(tag)"]], "DeviceAdditions": [["Id": "1"]]])
            #expect(reply.status == 201, "\(reply.text)")
            #expect((reply.json["DeviceAdditions"] as? [[String: Any]])?.first?["Id"] as? Int == 1, "ids are written back as numbers: \(reply.text)")

            // Body errors name the field.
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "Bad", "Tags": [["Id": "twelve"]]])
            #expect(reply.status == 400 && (reply.json["message"] as? String)?.contains("Tags[0].Id") == true, "\(reply.text)")
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "Bad", "Tags": [["Id": "99999999999999999999999"]]])
            #expect(reply.status == 400, "a number too large is refused, not a trap: \(reply.text)")
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "Bad", "OperatingSystems": [["DeviceType": "Apple", "Operator": "Roughly", "Value": "17"]]])
            #expect(reply.status == 400 && (reply.json["message"] as? String)?.contains("OperatingSystems[0].Operator") == true, "\(reply.text)")
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Platforms": ["Apple"]])
            #expect(reply.status == 400 && (reply.json["message"] as? String)?.contains("Name is required") == true, "\(reply.text)")
        } catch {
            try await uem.stop()
            throw error
        }
        try await uem.stop()
    }
}
