import Foundation
import MTDCore

/// The agent API of the MTD server (`/agent/v1`), with its answers turned into `AgentError`s.
public struct AgentAPI: Sendable {
    public let server: URL
    public let transport: any AgentTransport
    public let agentVersion: String

    public init(server: URL, transport: any AgentTransport, agentVersion: String = "0.1.0") {
        self.server = server
        self.transport = transport
        self.agentVersion = agentVersion
    }

    public struct Activation: Decodable, Sendable, Equatable {
        public var deviceId: String
        public var credential: String
        public var checkInIntervalSeconds: Int
        public var reactivated: Bool
    }

    public struct CheckInAnswer: Decodable, Sendable, Equatable {
        public var nextCheckInSeconds: Int
        public var policyVersion: Int
        public var securityStatus: SecurityStatus
        public var fullInventoryRequired: Bool
        public var actions: [String]
    }

    public func activate(_ configuration: AgentConfiguration, platform: Platform) async throws(AgentError) -> Activation {
        var body: [String: String] = ["enrollmentCode": configuration.enrollmentCode, "platform": platform.rawValue,
                                      "mode": configuration.mode.rawValue, "agentVersion": agentVersion]
        body["udid"] = configuration.udid
        body["externalId"] = configuration.externalID
        body["email"] = configuration.email
        body["mdm"] = configuration.mdm
        let data: Data
        do { data = try JSONEncoder().encode(body) } catch { throw .storage("cannot encode the activation: \(error)") }
        return try decode(try await exchange("POST", "agent/v1/activate", body: data, credential: nil))
    }

    /// Sends an encoded check-in (the caller encodes once and may count the bytes).
    public func checkIn(_ body: Data, credential: String) async throws(AgentError) -> CheckInAnswer {
        try decode(try await exchange("POST", "agent/v1/checkin", body: body, credential: credential))
    }

    public func deactivate(credential: String) async throws(AgentError) {
        _ = try await exchange("POST", "agent/v1/deactivate", body: Data("{}".utf8), credential: credential)
    }

    func exchange(_ method: String, _ path: String, body: Data, credential: String?) async throws(AgentError) -> Data {
        var headers = ["Content-Type": "application/json", "Accept": "application/json"]
        if let credential { headers["Authorization"] = "Bearer \(credential)" }
        let response: AgentHTTPResponse
        do {
            response = try await transport.send(AgentHTTPRequest(method: method, url: server.appendingPathComponent(path), headers: headers, body: body))
        } catch let error as AgentError {
            throw error
        } catch {
            throw .transport("\(error)")
        }
        let message = Self.message(response.body)
        switch response.status {
        case 200..<300: return response.body
        case 401 where credential != nil: throw .credentialRevoked(message)
        case 403 where credential != nil && Self.code(response.body) == "not_activated": throw .credentialRevoked(message)
        case 408, 429, 500..<600:
            throw .retryable("\(method) /\(path) answered \(response.status): \(message)", retryAfter: response.header("Retry-After").flatMap(Double.init))
        default: throw .rejected(status: response.status, message: message)
        }
    }

    func decode<T: Decodable>(_ data: Data) throws(AgentError) -> T {
        do { return try JSONDecoder().decode(T.self, from: data) } catch { throw .rejected(status: 200, message: "unexpected answer: \(error)") }
    }

    static func message(_ data: Data) -> String {
        struct Body: Decodable {
            struct Detail: Decodable { var message: String }
            var error: Detail
        }
        return (try? JSONDecoder().decode(Body.self, from: data))?.error.message ?? String(decoding: data.prefix(200), as: UTF8.self)
    }

    static func code(_ data: Data) -> String? {
        struct Body: Decodable {
            struct Detail: Decodable { var code: String }
            var error: Detail
        }
        return (try? JSONDecoder().decode(Body.self, from: data))?.error.code
    }
}
