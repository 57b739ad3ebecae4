import AsyncHTTPClient
import Foundation
import MTDServer
import NIOCore
import NIOHTTP1

/// The seed article's access control in the demo's built-in UEM, made through its REST API as an
/// admin would: a smart group on the MTD's "High Risk" tag, one of every phone, and a "Workspace ONE
/// Tunnel" profile assigned to all phones and excluded for High Risk. Done once per data directory.
enum SeedAccessControl {
    static let riskGroup = "MTD High Risk"
    static let highRiskTag = "MTD – High Risk"

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func ensure(_ access: DemoAccess, http: HTTPClient) async throws {
        let search = try await call(.GET, "/mdm/smartgroups/search?name=" + (riskGroup.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""),
                                    access, http)
        if let groups = search?["SmartGroups"] as? [[String: Any]], groups.contains(where: { $0["Name"] as? String == riskGroup }) { return }
        // UEM sync creates the MTD's tags when it first connects, which may still be under way.
        var tagID: Int?
        for _ in 0..<60 {
            let tags = try await call(.GET, "/mdm/tags/search?pagesize=500", access, http)
            tagID = (tags?["Tags"] as? [[String: Any]])?.first { $0["TagName"] as? String == highRiskTag }
                .flatMap { ($0["Id"] as? [String: Any])?["Value"] as? Int }
            if tagID != nil { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        guard let tagID else { throw Failure(description: "the UEM has no \(highRiskTag) tag yet") }
        let risky = try await call(.POST, "/mdm/smartgroups", access, http, json: ["Name": riskGroup, "Tags": [["Id": tagID]]])
        let all = try await call(.POST, "/mdm/smartgroups", access, http, json: ["Name": "All phones", "Platforms": ["Apple", "Android"]])
        guard let riskyID = risky?["SmartGroupID"] as? Int, let allID = all?["SmartGroupID"] as? Int else {
            throw Failure(description: "the UEM did not answer the new smart groups' ids")
        }
        _ = try await call(.POST, "/mdm/profiles", access, http, json: [
            "Name": "Workspace ONE Tunnel", "AssignedSmartGroups": [allID], "ExcludedSmartGroups": [riskyID],
        ])
        Terminal.progress("demo fleet: the Workspace ONE Tunnel profile goes to every phone except the \(riskGroup) smart group")
    }

    private static func call(_ method: HTTPMethod, _ path: String, _ access: DemoAccess, _ http: HTTPClient, json: [String: Any]? = nil) async throws -> [String: Any]? {
        var request = HTTPClientRequest(url: access.uemBaseURL + path)
        request.method = method
        request.headers.add(name: "aw-tenant-code", value: access.tenantCode)
        request.headers.add(name: "Authorization", value: "Basic " + Data("\(access.username):\(access.password)".utf8).base64EncodedString())
        request.headers.add(name: "Accept", value: "application/json")
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: json)))
        }
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 4 << 20)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw Failure(description: "\(method.rawValue) \(path) answered \(response.status.code): \(String(buffer: body).prefix(300))")
        }
        guard response.status != .noContent, body.readableBytes > 0 else { return nil }
        return try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
    }
}
