import Foundation
import MTDCore

/// Reads STIX 2.1 bundles the way MVT publishes them: `malware` objects name the families,
/// `indicator` objects hold single-comparison patterns such as `[domain-name:value='x.com']`, and
/// `indicates` relationships attach indicators to families. Unattached indicators belong to the bundle.
struct STIX2Bundle {
    struct Indicator {
        /// Normalized pattern type, e.g. `domain-name:value`, `file:hashes.sha256`.
        var type: String
        var value: String
        var family: String?
    }

    var families: [String]
    var indicators: [Indicator]
    var unsupportedPatterns: [String]

    private struct Document: Decodable {
        var type: String?
        var objects: [Object]?
    }

    private struct Object: Decodable {
        var type: String
        var id: String?
        var name: String?
        var pattern: String?
        var relationship_type: String?
        var source_ref: String?
        var target_ref: String?
    }

    init(data: Data, file: String) throws(IntelligenceError) {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: data)
        } catch {
            throw IntelligenceError(file: file, message: "not a STIX2 bundle: \(DocumentErrorText.describe(error))")
        }
        guard document.type == "bundle", let objects = document.objects else {
            throw IntelligenceError(file: file, message: "not a STIX2 bundle: expected {\"type\":\"bundle\",\"objects\":[…]}")
        }
        var familyNames: [String: String] = [:]
        var familyOf: [String: String] = [:]
        var families: [String] = []
        for object in objects where object.type == "malware" || object.type == "report" {
            if let id = object.id, let name = object.name {
                familyNames[id] = name
                families.append(name)
            }
        }
        for object in objects where object.type == "relationship" {
            if let source = object.source_ref, let target = object.target_ref, let name = familyNames[target] {
                familyOf[source] = name
            }
        }
        var indicators: [Indicator] = []
        var unsupported: [String] = []
        for object in objects where object.type == "indicator" {
            guard let pattern = object.pattern else { continue }
            guard let (type, value) = Self.parse(pattern: pattern) else {
                unsupported.append(pattern)
                continue
            }
            indicators.append(Indicator(type: type, value: value, family: object.id.flatMap { familyOf[$0] }))
        }
        self.families = families
        self.indicators = indicators
        self.unsupportedPatterns = unsupported
    }

    /// `[object:path='value']` → (normalized path, value). Compound patterns are not used by any
    /// published MVT bundle and are reported as unsupported rather than guessed at.
    static func parse(pattern: String) -> (String, String)? {
        var text = Substring(pattern.trimmingCharacters(in: .whitespaces))
        guard text.hasPrefix("["), text.hasSuffix("]") else { return nil }
        text = text.dropFirst().dropLast()
        guard let equals = text.firstIndex(of: "=") else { return nil }
        let key = text[..<equals].trimmingCharacters(in: .whitespaces)
        var value = text[text.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        guard value.count >= 2, value.hasPrefix("'"), value.hasSuffix("'") else { return nil }
        value = String(value.dropFirst().dropLast())
        guard !value.contains("' AND ") && !value.contains("' OR ") else { return nil }
        value = value.replacingOccurrences(of: "\\'", with: "'").replacingOccurrences(of: "\\\\", with: "\\")
        return (normalize(key: key), value)
    }

    /// Both spellings of the SHA-256 key (`hashes.sha256` and `hashes.'SHA-256'`) mean the same thing.
    static func normalize(key: String) -> String {
        let lowered = key.lowercased().replacingOccurrences(of: "'", with: "")
        switch lowered {
        case "file:hashes.sha-256", "file:hashes.sha256": return "file:hashes.sha256"
        case "file:hashes.sha-1", "file:hashes.sha1": return "file:hashes.sha1"
        case "file:hashes.md5": return "file:hashes.md5"
        case "app:cert.sha-256": return "app:cert.sha256"
        case "app:cert.sha-1": return "app:cert.sha1"
        default: return lowered
        }
    }
}

enum DocumentErrorText {
    static func describe(_ error: any Error) -> String {
        DocumentError(decoding: error).description
    }
}
