import Foundation
import MTDCore
import MTDDetection

/// `--policy FILE` of the offline commands: JSON or YAML (by extension); none means the default policy.
enum PolicyFile {
    static func load(_ path: String?) throws -> Policy {
        guard let path else { return Policy() }
        do {
            let data = try InputFile.read(path, limit: PolicyDocument.maximumBytes)
            return try PolicyDocument.decode(data, format: PolicyDocument.Format(fileName: path))
        } catch let error as DocumentError {
            throw Terminal.badInput("\(path): \(error)")
        } catch {
            throw Terminal.badInput("\(error)")
        }
    }
}
