/// A document (check-in, policy, intelligence file) that cannot be used, with the JSON path of the
/// offending field so the sender can fix it.
public struct DocumentError: Error, Sendable, Equatable, CustomStringConvertible {
    /// JSON path such as `$.apps.installed[3].source`; `$` is the whole document.
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

extension DocumentError {
    /// Turns a Foundation (or Yams) decoding error into a path-naming document error.
    public init(decoding error: any Error) {
        guard let decodingError = error as? DecodingError else {
            self.init(path: "$", message: "cannot be read: \(error)")
            return
        }
        switch decodingError {
        case .typeMismatch(let type, let context):
            self.init(path: JSONPath.render(context.codingPath),
                      message: "expected \(Self.describe(type)); \(Self.trimmed(context.debugDescription))")
        case .valueNotFound(let type, let context):
            self.init(path: JSONPath.render(context.codingPath), message: "expected \(Self.describe(type)), found null")
        case .keyNotFound(let key, let context):
            self.init(path: JSONPath.render(context.codingPath + [key]), message: "required field is missing")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                let reason = context.underlyingError.map { "\($0)" } ?? context.debugDescription
                self.init(path: "$", message: "not a valid document: \(Self.trimmed(reason))")
            } else {
                self.init(path: JSONPath.render(context.codingPath), message: Self.trimmed(context.debugDescription))
            }
        @unknown default:
            self.init(path: "$", message: "\(decodingError)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        case is [Any].Type: "an array"
        default:
            "\(type)".hasPrefix("Array") ? "an array" : (("\(type)".hasPrefix("Dictionary")) ? "an object" : "an object (\(type))")
        }
    }

    private static func trimmed(_ text: String) -> String {
        text.count > 300 ? String(text.prefix(300)) + "…" : text
    }
}

/// Renders Codable coding paths as JSON paths.
public enum JSONPath {
    public static func render(_ path: [any CodingKey]) -> String {
        var result = "$"
        for key in path {
            if let index = key.intValue, key.stringValue.hasPrefix("Index") || key.stringValue == String(index) {
                result += "[\(index)]"
            } else {
                result += ".\(key.stringValue)"
            }
        }
        return result
    }
}
