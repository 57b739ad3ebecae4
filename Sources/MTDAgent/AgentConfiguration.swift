import Foundation
import MTDCore

/// How an agent learns where to activate: the Hub's custom settings (embedded mode) or the managed
/// app config an MDM pushes to the standalone app. Lookup values such as `{DeviceUid}` have already
/// been resolved by the UEM when the agent reads them.
public struct AgentConfiguration: Sendable, Equatable {
    public var isEnabled: Bool
    public var enrollmentCode: String
    /// The MTD server, e.g. `https://mtd.example.com`; the host app's default when the settings omit it.
    public var serverURL: URL
    public var udid: String?
    public var externalID: String?
    public var email: String?
    public var mdm: String?
    public var mode: DeploymentMode

    public init(isEnabled: Bool = true, enrollmentCode: String, serverURL: URL, udid: String? = nil, externalID: String? = nil,
                email: String? = nil, mdm: String? = nil, mode: DeploymentMode) {
        self.isEnabled = isEnabled
        self.enrollmentCode = enrollmentCode
        self.serverURL = serverURL
        self.udid = udid
        self.externalID = externalID
        self.email = email
        self.mdm = mdm
        self.mode = mode
    }

    /// Hub custom settings: `{"mtdSettings": {"isEnabled": true, "enrollmentCode": "…", "serverURL": "…"}}`
    /// (embedded mode). `isEnabled: false` is a valid configuration that keeps the agent off.
    public static func hubCustomSettings(_ data: Data, defaultServer: URL?, udid: String? = nil) throws(AgentConfigurationError) -> AgentConfiguration {
        guard let root = try? JSONDecoder().decode(JSONValue.self, from: data), case .object(let object) = root else {
            throw .invalid(key: "$", reason: "the custom settings are not a JSON object")
        }
        guard case .object(let settings)? = object["mtdSettings"] else {
            throw .missing(key: "mtdSettings", hint: "add {\"mtdSettings\": {\"isEnabled\": true, \"enrollmentCode\": \"…\"}} to the Hub custom settings")
        }
        guard let enabled = settings["isEnabled"] else { throw .missing(key: "mtdSettings.isEnabled", hint: "true to turn the MTD on") }
        guard case .bool(let isEnabled) = enabled else {
            throw .invalid(key: "mtdSettings.isEnabled", reason: "must be true or false, not \(enabled.text)")
        }
        func string(_ key: String) throws(AgentConfigurationError) -> String? {
            switch settings[key] {
            case nil, .null?: return nil
            case .string(let value)?: return value
            case let other?: throw .invalid(key: "mtdSettings.\(key)", reason: "must be a string, not \(other.text)")
            }
        }
        let code = try enrollmentCode(try string("enrollmentCode"), key: "mtdSettings.enrollmentCode", required: isEnabled)
        let server: URL
        if isEnabled {
            server = try serverURL(try string("serverURL"), key: "mtdSettings.serverURL", defaultServer: defaultServer)
        } else {
            // Off: the agent never calls out, so no server is needed ("invalid" is a reserved name that never resolves).
            server = (try? serverURL(try string("serverURL"), key: "mtdSettings.serverURL", defaultServer: defaultServer)) ?? Self.nowhere
        }
        return AgentConfiguration(isEnabled: isEnabled, enrollmentCode: code, serverURL: server, udid: udid,
                                  externalID: try string("externalId"), email: try string("email"), mdm: "AirWatch", mode: .embedded)
    }

    /// Managed app config of the standalone app: `DEVICE_UDID`, `MDM`, `EMAIL`, `GLOBAL_ENROLLMENT_CODE`
    /// (and optionally `SERVER_URL`, `DEVICE_UUID`). Values arrive as strings.
    public static func managedAppConfig(_ values: [String: Any], defaultServer: URL?) throws(AgentConfigurationError) -> AgentConfiguration {
        func text(_ key: String, required: Bool) throws(AgentConfigurationError) -> String? {
            guard let value = values[key] else {
                if required { throw .missing(key: key, hint: "set it in the app configuration of the MDM") }
                return nil
            }
            guard let string = value as? String else { throw .invalid(key: key, reason: "must be a string, not \(value)") }
            let trimmed = string.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty, required { throw .invalid(key: key, reason: "is empty") }
            // A lookup value the MDM did not resolve would bind the device to the literal text.
            if trimmed.hasPrefix("{"), trimmed.hasSuffix("}") {
                throw .invalid(key: key, reason: "holds the unresolved lookup value \(trimmed); check the lookup name in the MDM's app configuration")
            }
            return trimmed.isEmpty ? nil : trimmed
        }
        let udid = try text("DEVICE_UDID", required: true)
        let code = try enrollmentCode(try text("GLOBAL_ENROLLMENT_CODE", required: true), key: "GLOBAL_ENROLLMENT_CODE", required: true)
        let email = try text("EMAIL", required: false)
        if let email, !email.contains("@") { throw .invalid(key: "EMAIL", reason: "\(email) is not an e-mail address") }
        let server = try serverURL(try text("SERVER_URL", required: false), key: "SERVER_URL", defaultServer: defaultServer)
        return AgentConfiguration(isEnabled: true, enrollmentCode: code, serverURL: server, udid: udid, externalID: try text("DEVICE_UUID", required: false),
                                  email: email, mdm: try text("MDM", required: false), mode: .standalone)
    }

    static let nowhere: URL = URL(string: "http://disabled.invalid") ?? URL(fileURLWithPath: "/")

    static func enrollmentCode(_ value: Any?, key: String, required: Bool) throws(AgentConfigurationError) -> String {
        guard let value else {
            if required { throw .missing(key: key, hint: "the enrollment code from the OpenMTD console (Integrations → Enrollment)") }
            return ""
        }
        guard let code = value as? String else { throw .invalid(key: key, reason: "must be a string, not \(value)") }
        let trimmed = code.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty || !required else { throw .invalid(key: key, reason: "is empty") }
        guard trimmed.count <= 128, trimmed.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw .invalid(key: key, reason: "\"\(trimmed)\" is not an enrollment code (letters, digits, - and _ only)")
        }
        return trimmed
    }

    static func serverURL(_ value: Any?, key: String, defaultServer: URL?) throws(AgentConfigurationError) -> URL {
        guard let value else {
            guard let defaultServer else { throw .missing(key: key, hint: "the OpenMTD server address, e.g. https://mtd.example.com") }
            return defaultServer
        }
        guard let text = value as? String, let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
            throw .invalid(key: key, reason: "\(value) is not an http(s) address")
        }
        return url
    }
}

extension JSONValue {
    /// The value as JSON text, for messages.
    var text: String {
        (try? JSONEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
    }
}

public enum AgentConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    case missing(key: String, hint: String)
    case invalid(key: String, reason: String)

    public var description: String {
        switch self {
        case .missing(let key, let hint): "agent configuration: \(key) is missing; \(hint)"
        case .invalid(let key, let reason): "agent configuration: \(key) \(reason)"
        }
    }
}
