import Foundation
import MTDCore
import Yams

/// Reads policies written by people, in JSON or YAML. Errors name the field.
public enum PolicyDocument {
    public enum Format: Sendable {
        case json, yaml

        /// `.yaml`/`.yml` files are YAML, everything else JSON.
        public init(fileName: String) {
            let lowered = fileName.lowercased()
            self = lowered.hasSuffix(".yaml") || lowered.hasSuffix(".yml") ? .yaml : .json
        }
    }

    public static let maximumBytes = 1024 * 1024

    public static func decode(_ data: Data, format: Format) throws(DocumentError) -> Policy {
        guard data.count <= maximumBytes else {
            throw DocumentError(path: "$", message: "policy is \(data.count) bytes; the limit is \(maximumBytes)")
        }
        do {
            switch format {
            case .json:
                return try JSONDecoder().decode(Policy.self, from: data)
            case .yaml:
                guard let text = String(data: data, encoding: .utf8) else {
                    throw DocumentError(path: "$", message: "not UTF-8 text")
                }
                if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return Policy() }
                return try YAMLDecoder().decode(Policy.self, from: text)
            }
        } catch let error as DocumentError {
            throw error
        } catch {
            throw DocumentError(decoding: error)
        }
    }

    public static func encode(_ policy: Policy) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return (try? encoder.encode(policy)) ?? Data("{}".utf8)
    }
}
