import Foundation
import Testing

/// Inputs the API fuzzer found mishandled by the built-in UEM; each answer must name the problem.
struct UEMInputTests {
    @Test func idsAndNamesAreChecked() async throws {
        let uem = try await UEMServer.start()
        do {
            // A group id that is not a number names no group; it used to fall back to the caller's own.
            var reply = try await uem.send(.GET, "/API/system/groups/null,null/children")
            #expect(reply.status == 404, "\(reply.text)")
            reply = try await uem.send(.GET, "/API/system/groups/abc")
            #expect(reply.status == 404, "\(reply.text)")

            reply = try await uem.send(.POST, "/API/mdm/tags/addtag", json: ["TagName": "MTD High"])
            #expect(reply.status == 200, "\(reply.text)")
            let high = try #require((reply.json["Value"] as? Int))
            reply = try await uem.send(.POST, "/API/mdm/tags/addtag", json: ["TagName": "MTD Low"])
            #expect(reply.status == 200, "\(reply.text)")
            // A rename to nothing or to another tag's name is refused.
            reply = try await uem.send(.POST, "/API/mdm/tags/\(high)/update", json: ["TagName": " "])
            #expect(reply.status == 400 && reply.text.contains("TagName"), "\(reply.text)")
            reply = try await uem.send(.POST, "/API/mdm/tags/\(high)/update", json: ["TagName": "MTD Low"])
            #expect(reply.status == 400 && reply.text.contains("already exists"), "\(reply.text)")
            reply = try await uem.send(.POST, "/API/mdm/tags/\(high)/update", json: ["TagName": "MTD Critical"])
            #expect(reply.status == 204, "\(reply.text)")

            // Tags and smart groups go only into organization groups that exist and are in scope.
            reply = try await uem.send(.POST, "/API/mdm/tags/addtag", json: ["TagName": "Elsewhere", "LocationGroupId": 9_999])
            #expect(reply.status == 404, "\(reply.text)")
            reply = try await uem.send(.POST, "/API/mdm/smartgroups", json: ["Name": "Elsewhere", "ManagedByOrganizationGroupId": 9_999])
            #expect(reply.status == 404, "\(reply.text)")
        } catch {
            try? await uem.stop()
            throw error
        }
        try await uem.stop()
    }
}
