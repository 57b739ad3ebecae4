import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import MTDCore

/// The Workspace ONE UEM REST client: `aw-tenant-code` + Basic auth, `Accept: application/json;version=1`,
/// 0-based paging, 204 for empty searches, timeouts, and retries with exponential backoff on 429
/// and 5xx that honour `Retry-After` and `x-ratelimit-reset`.
public struct WorkspaceOneClient: UEMConnector {
    public struct Settings: Sendable, Equatable, Codable {
        /// e.g. `https://as1234.awmdm.com/API` or `http://127.0.0.1:8080/API`.
        public var baseURL: String
        public var tenantCode: String
        public var username: String
        public var password: String
        /// When set, calls authenticate with an OAuth bearer token instead of Basic (username and password are then unused).
        public var oauth: OAuth?
        public var timeoutSeconds: Int64
        public var maxAttempts: Int

        public init(baseURL: String, tenantCode: String, username: String, password: String, oauth: OAuth? = nil, timeoutSeconds: Int64 = 15, maxAttempts: Int = 4) {
            self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
            self.tenantCode = tenantCode
            self.username = username
            self.password = password
            self.oauth = oauth
            self.timeoutSeconds = timeoutSeconds
            self.maxAttempts = maxAttempts
        }
    }

    /// OAuth 2.0 client credentials: a token from `tokenURL` (e.g. `https://na.uemauth.vmwservices.com/connect/token`).
    public struct OAuth: Sendable, Equatable, Codable {
        public var tokenURL: String
        public var clientID: String
        public var clientSecret: String

        public init(tokenURL: String, clientID: String, clientSecret: String) {
            self.tokenURL = tokenURL
            self.clientID = clientID
            self.clientSecret = clientSecret
        }
    }

    public let settings: Settings
    let http: HTTPClient
    let logger: Logger
    let tokens = OAuthTokenCache()
    /// Checks the UEM and token URLs before every connection; nil for the built-in UEM on loopback,
    /// whose address is this server's own and not admin-supplied.
    let egress: EgressGuard?

    public init(settings: Settings, http: HTTPClient = EgressHTTP.client, egress: EgressGuard? = EgressGuard(), logger: Logger = Logger(label: "openmtd.uem")) {
        self.settings = settings
        self.http = http
        self.egress = egress
        self.logger = logger
    }

    func checkEgress(_ url: String) async throws(UEMClientError) {
        do {
            try await egress?.check(url)
        } catch {
            throw .refused(error.description)
        }
    }

    /// The UEM's product and the OpenMTD extensions it offers (`system/info`); also the credentials test.
    public func systemInfo() async throws(UEMClientError) -> UEMSystemInfo {
        struct Info: Decodable {
            var ProductName: String?
            var ProductVersion: String?
            var Capabilities: [String]?
        }
        guard let data = try await call(.GET, "/system/info") else { return UEMSystemInfo(product: "unknown", version: "", capabilities: []) }
        let info: Info = try decode(data)
        return UEMSystemInfo(product: info.ProductName ?? "Workspace ONE UEM", version: info.ProductVersion ?? "", capabilities: Set(info.Capabilities ?? []))
    }

    public func reportThreatLevel(_ level: UEMThreatLevel, devices deviceIDs: [Int]) async throws(UEMClientError) -> UEMBulkResult {
        try await bulk("/mdm/devices/mtdthreatlevel", deviceIDs, extra: ["ThreatLevel": level.rawValue])
    }

    // MARK: UEMConnector

    public func devices(page: Int, pageSize: Int) async throws(UEMClientError) -> UEMDevicePage {
        struct Page: Decodable {
            var Devices: [DeviceJSON]
            var Total: Int
        }
        guard let data = try await call(.GET, "/mdm/devices/search?page=\(page)&pagesize=\(pageSize)") else {
            return UEMDevicePage(devices: [], total: 0)
        }
        let decoded: Page = try decode(data)
        return UEMDevicePage(devices: decoded.Devices.map(\.record), total: decoded.Total)
    }

    /// `GET /mdm/devices/{uuid}` for a UUID; `GET /mdm/devices?searchby=Udid|Serialnumber|ImeiNumber&id=`
    /// otherwise. A 404 is no such device.
    public func device(_ lookup: UEMDeviceLookup) async throws(UEMClientError) -> UEMDeviceRecord? {
        let path: String
        switch lookup {
        case .uuid(let value):
            // Only a well-formed UUID goes into the path.
            guard let uuid = UUID(uuidString: value) else { return nil }
            path = "/mdm/devices/\(uuid.uuidString.lowercased())"
        case .udid(let value): path = Self.searchPath("Udid", value)
        case .serialNumber(let value): path = Self.searchPath("Serialnumber", value)
        case .imei(let value): path = Self.searchPath("ImeiNumber", value)
        }
        do {
            guard let data = try await call(.GET, path) else { return nil }
            let device: DeviceJSON = try decode(data)
            return device.record
        } catch .notFound {
            return nil
        }
    }

    static func searchPath(_ by: String, _ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return "/mdm/devices?searchby=\(by)&id=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
    }

    public func tags() async throws(UEMClientError) -> [UEMTagInfo] {
        struct Tag: Decodable {
            struct Id: Decodable { var Value: Int }
            var Id: Id
            var TagName: String
        }
        struct Page: Decodable {
            var Tags: [Tag]
            var Total: Int
        }
        var result: [UEMTagInfo] = []
        var page = 0
        while true {
            guard let data = try await call(.GET, "/mdm/tags/search?page=\(page)&pagesize=500") else { break }
            let decoded: Page = try decode(data)
            result += decoded.Tags.map { UEMTagInfo(id: $0.Id.Value, name: $0.TagName) }
            if result.count >= decoded.Total || decoded.Tags.isEmpty { break }
            page += 1
        }
        return result
    }

    public func createTag(named name: String) async throws(UEMClientError) -> Int {
        struct Created: Decodable { var Value: Int }
        let body = ["TagName": name, "TagAvatar": name, "TagType": 1] as [String: Any]
        guard let data = try await call(.POST, "/mdm/tags/addtag", json: body) else { throw .unexpected("addtag answered without a body") }
        let created: Created = try decode(data)
        return created.Value
    }

    public func addDevices(_ deviceIDs: [Int], toTag tagID: Int) async throws(UEMClientError) -> UEMBulkResult {
        try await bulk("/mdm/tags/\(tagID)/adddevices", deviceIDs)
    }

    public func removeDevices(_ deviceIDs: [Int], fromTag tagID: Int) async throws(UEMClientError) -> UEMBulkResult {
        try await bulk("/mdm/tags/\(tagID)/removedevices", deviceIDs)
    }

    public func devices(withTag tagID: Int) async throws(UEMClientError) -> [Int] {
        struct Item: Decodable { var DeviceId: Int }
        struct Body: Decodable { var Device: [Item]? }
        guard let data = try await call(.GET, "/mdm/tags/\(tagID)/devices") else { return [] }
        let body: Body = try decode(data)
        return body.Device?.map(\.DeviceId) ?? []
    }

    public func sendCommand(_ command: UEMDeviceCommand, device deviceID: Int) async throws(UEMClientError) {
        _ = try await call(.POST, "/mdm/devices/\(deviceID)/commands?command=\(command.rawValue)")
    }

    public func sendMessage(_ text: String, device deviceID: Int) async throws(UEMClientError) {
        _ = try await call(.POST, "/mdm/devices/\(deviceID)/messages/push",
                           json: ["MessageBody": text, "Application": "AirWatch Agent", "MessageType": "OpenMTD"])
    }

    public func tagNames(ofDevice deviceID: Int) async throws(UEMClientError) -> [String] {
        struct Item: Decodable { var name: String }
        struct Body: Decodable { var tags: [Item]? }
        guard let data = try await call(.GET, "/mdm/devices/\(deviceID)/tags") else { return [] }
        let body: Body = try decode(data)
        return body.tags?.map(\.name) ?? []
    }

    public func members(ofSmartGroup groupID: Int) async throws(UEMClientError) -> [Int] {
        // SmartGroupDevice's `Id` is a string in Workspace ONE's schema; some versions answer `{"Value": n}`.
        struct Item: Decodable {
            var id: Int?
            enum CodingKeys: String, CodingKey { case Id }
            struct Identifier: Decodable { var Value: Int }
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                if let text = try? container.decode(String.self, forKey: .Id) {
                    id = Int(text)
                } else {
                    id = try container.decode(Identifier.self, forKey: .Id).Value
                }
            }
        }
        struct Body: Decodable { var Devices: [Item]? }
        guard let data = try await call(.GET, "/mdm/smartgroups/\(groupID)/devices") else { return [] }
        let body: Body = try decode(data)
        return body.Devices?.compactMap(\.id) ?? []
    }

    // MARK: Transport

    func bulk(_ path: String, _ deviceIDs: [Int], extra: [String: String] = [:]) async throws(UEMClientError) -> UEMBulkResult {
        struct Fault: Decodable {
            var ItemValue: String
            var Message: String?
        }
        struct Faults: Decodable { var Fault: [Fault]? }
        struct Response: Decodable { var Faults: Faults? }
        var body: [String: Any] = ["BulkValues": ["Value": deviceIDs.map(String.init)]]
        for (key, value) in extra { body[key] = value }
        guard let data = try await call(.POST, path, json: body) else { return UEMBulkResult(accepted: deviceIDs, faults: [:]) }
        let response: Response = try decode(data)
        var faults: [Int: String] = [:]
        for fault in response.Faults?.Fault ?? [] {
            if let id = Int(fault.ItemValue) { faults[id] = fault.Message ?? "refused" }
        }
        return UEMBulkResult(accepted: deviceIDs.filter { faults[$0] == nil }, faults: faults)
    }

    /// Sends one call with retries; nil for 204 No Content.
    func call(_ method: HTTPMethod, _ path: String, json: [String: Any]? = nil) async throws(UEMClientError) -> Data? {
        var attempt = 0
        var renewedToken = false
        while true {
            attempt += 1
            var request = HTTPClientRequest(url: settings.baseURL + path)
            request.method = method
            request.headers.add(name: "aw-tenant-code", value: settings.tenantCode)
            if let oauth = settings.oauth {
                request.headers.add(name: "Authorization", value: "Bearer " + (try await bearerToken(oauth)))
            } else {
                request.headers.add(name: "Authorization", value: "Basic " + Data("\(settings.username):\(settings.password)".utf8).base64EncodedString())
            }
            request.headers.add(name: "Accept", value: "application/json;version=1")
            if let json, let body = try? JSONSerialization.data(withJSONObject: json) {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: Array(body)))
            }
            let status: HTTPResponseStatus
            let headers: HTTPHeaders
            let data: Data
            try await checkEgress(request.url)
            do {
                let response = try await http.execute(request, timeout: .seconds(settings.timeoutSeconds))
                status = response.status
                headers = response.headers
                data = Data(try await response.body.collect(upTo: 64 * 1024 * 1024).readableBytesView)
            } catch {
                guard attempt < settings.maxAttempts else { throw .unavailable("\(method) \(path): \(error)") }
                try await backoff(attempt: attempt, headers: nil)
                continue
            }
            switch status.code {
            case 204: return nil
            case 200..<300: return data
            case 401 where settings.oauth != nil && !renewedToken:
                // The token may have expired early (or the UEM restarted): get a new one once.
                renewedToken = true
                await tokens.clear()
                attempt -= 1
            case 401: throw .credentials(Self.message(data))
            case 403: throw .forbidden(Self.message(data))
            case 404: throw .notFound(Self.message(data))
            case 300..<400:
                let location = headers.first(name: "Location") ?? "(no Location)"
                throw .unexpected("\(method) \(path) redirected (\(status.code)) to \(location); redirects are not followed: put the final URL in the settings")
            case 429, 500..<600:
                guard attempt < settings.maxAttempts else { throw .unavailable("\(method) \(path) answered \(status.code) \(attempt) times") }
                logger.warning("UEM call failed; retrying", metadata: ["path": "\(path)", "status": "\(status.code)", "attempt": "\(attempt)"])
                try await backoff(attempt: attempt, headers: headers)
            default:
                throw .unexpected("\(method) \(path) answered \(status.code): \(Self.message(data))")
            }
        }
    }

    /// Exponential backoff with jitter; a server's Retry-After (seconds) or x-ratelimit-reset (epoch) wins.
    func backoff(attempt: Int, headers: HTTPHeaders?) async throws(UEMClientError) {
        let seconds = Self.retryDelay(attempt: attempt, retryAfter: headers?.first(name: "Retry-After"),
                                      rateLimitReset: headers?.first(name: "x-ratelimit-reset"), now: Date(), jitter: Double.random(in: 0.8...1.2))
        do {
            try await Task.sleep(nanoseconds: SleepInterval.nanoseconds(seconds))
        } catch {
            throw .unavailable("cancelled while waiting to retry")
        }
    }

    /// Seconds to wait, always finite and within 0...60: the headers come from the UEM, and a negative,
    /// infinite or NaN value (`Retry-After: -5`, `nan`) must not reach the integer conversion, where
    /// it would trap and take the whole server down.
    static func retryDelay(attempt: Int, retryAfter: String?, rateLimitReset: String?, now: Date, jitter: Double) -> Double {
        let exponent = attempt <= 1 ? 0.0 : Double(min(attempt, 17) - 1)
        var seconds = min(8.0, 0.2 * pow(2.0, exponent)) * jitter
        if let retryAfter = retryAfter.flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }) {
            seconds = retryAfter
        } else if let reset = rateLimitReset.flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }) {
            seconds = reset - now.timeIntervalSince1970
        }
        guard seconds.isFinite else { return 1 }
        return min(max(seconds, 0), 60)
    }

    static func message(_ data: Data) -> String {
        struct Body: Decodable {
            var errorCode: Int?
            var message: String?
        }
        if let body = try? JSONDecoder().decode(Body.self, from: data), let message = body.message {
            return body.errorCode.map { "\(message) (errorCode \($0))" } ?? message
        }
        return String(decoding: data.prefix(300), as: UTF8.self)
    }

    func decode<T: Decodable>(_ data: Data) throws(UEMClientError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw .unexpected("cannot read \(T.self): \(error)")
        }
    }
}

/// A device as Workspace ONE's REST API writes it (the DeviceExtended fields the MTD reads).
struct DeviceJSON: Decodable {
    struct Id: Decodable { var Value: Int }
    var Id: Id
    var Uuid: String
    var Udid: String
    var SerialNumber: String?
    var UserEmailAddress: String?
    var UserName: String?
    var Platform: String
    var OperatingSystem: String?
    var Model: String?

    var record: UEMDeviceRecord {
        UEMDeviceRecord(id: self.Id.Value, uuid: Uuid, udid: Udid, serialNumber: SerialNumber, email: UserEmailAddress, userName: UserName,
                        platform: Platform, operatingSystem: OperatingSystem, model: Model)
    }
}
