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

    /// The detection engine for `--policy` and the loaded intelligence (a policy naming something the
    /// intelligence does not know is refused with the file's name).
    static func engine(_ path: String?, intel: IntelOptions) throws -> DetectionEngine {
        let policy = try load(path)
        let intelligence = try intel.load()
        do {
            return try DetectionEngine(policy: policy, intelligence: intelligence)
        } catch {
            throw Terminal.badInput("\(path ?? "policy"): \(error)")
        }
    }
}
