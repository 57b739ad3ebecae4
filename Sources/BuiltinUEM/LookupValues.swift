import Foundation
import MTDCore
import Vapor

/// Workspace ONE style lookup values (`{DeviceUid}`, `{EmailAddress}`, …) in configuration text,
/// resolved per device. Names match without regard to case; an unknown name is refused when the
/// configuration is saved, so a typo never reaches a device as literal text. `{ResolverToken}` comes
/// from the host application (`UEMLookupSource`): OpenMTD's per-device protective DNS token.
enum LookupValues {
    static let names = ["DeviceUid", "DeviceUuid", "DeviceId", "DeviceSerialNumber", "DeviceFriendlyName", "DeviceModel", "DevicePlatform",
                        "EmailAddress", "EnrollmentUser", "ResolverToken"]

    /// The lookup names used in `text`, as written.
    static func references(in text: String) -> [String] {
        var found: [String] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "}") else { break }
            let name = after[..<close]
            if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber }) {
                found.append(String(name))
                rest = after[after.index(after: close)...]
            } else {
                // Not a lookup (e.g. a JSON brace): look again from the next character.
                rest = after
            }
        }
        return found
    }

    /// The first unknown lookup in `text`, with the closest known name.
    static func unknown(in text: String) -> (name: String, suggestion: String?)? {
        for name in references(in: text) where canonical(name) == nil {
            return (name, Suggestion.closest(to: name, in: names))
        }
        return nil
    }

    static func canonical(_ name: String) -> String? {
        names.first { $0.caseInsensitiveCompare(name) == .orderedSame }
    }

    static func values(for device: UEMDevice) -> [String: String] {
        [
            "DeviceUid": device.udid, "DeviceUuid": device.uuid.uuidString.lowercased(), "DeviceId": device.id.map(String.init) ?? "",
            "DeviceSerialNumber": device.serialNumber ?? "", "DeviceFriendlyName": device.friendlyName, "DeviceModel": device.model ?? "",
            "DevicePlatform": device.platform, "EmailAddress": device.userEmail ?? "", "EnrollmentUser": device.userName,
        ]
    }

    /// The UEM's values and the host's (`UEMLookupSource`) for one device.
    static func values(for device: UEMDevice, on request: Request) async throws -> [String: String] {
        var values = values(for: device)
        if let source = request.application.storage[UEMLookupSourceKey.self], let id = device.id {
            values.merge(try await source.values(udid: device.udid, uemDeviceID: id)) { _, host in host }
        }
        return values
    }

    static func resolve(_ text: String, values: [String: String]) -> String {
        var result = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            result += rest[..<open]
            let after = rest[rest.index(after: open)...]
            if let close = after.firstIndex(of: "}"), let name = canonical(String(after[..<close])) {
                result += values[name] ?? ""
                rest = after[after.index(after: close)...]
            } else {
                result += "{"
                rest = after
            }
        }
        return result + rest
    }

    /// Resolves lookups in every string of a JSON value (keys stay as written).
    static func resolve(json value: Any, values: [String: String]) -> Any {
        switch value {
        case let text as String: return resolve(text, values: values)
        case let array as [Any]: return array.map { resolve(json: $0, values: values) }
        case let object as [String: Any]: return object.mapValues { resolve(json: $0, values: values) }
        default: return value
        }
    }
}
