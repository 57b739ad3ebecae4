import Foundation
import Logging

/// What the first start makes and an admin needs once (the owner's generated password, the first
/// enrollment code, the built-in UEM's tenant code and generated password) goes to a file that only
/// the server's user can read, never to the log: logs are shipped to aggregators, kept for years and
/// read by people who must not hold these.
public enum FirstStartSecrets {
    public static let fileName = "first-start-secrets.txt"

    public struct WriteFailed: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "cannot write the first-start secrets to \(path): \(reason); check that the data folder is writable" }
    }

    /// Appends `name: value` lines to `<dataDirectory>/first-start-secrets.txt` (mode 0600) and logs
    /// where they are, without the values.
    public static func record(_ entries: KeyValuePairs<String, String>, dataDirectory: String, logger: Logger) throws {
        let folder = URL(fileURLWithPath: dataDirectory, isDirectory: true)
        let file = folder.appendingPathComponent(fileName)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            for (name, value) in entries { text += "\(name): \(value)\n" }
            if FileManager.default.fileExists(atPath: file.path) {
                try Data(text.utf8).write(to: file)
            } else if !FileManager.default.createFile(atPath: file.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) {
                throw WriteFailed(path: file.path, reason: "the file could not be created")
            }
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        } catch let error as WriteFailed {
            throw error
        } catch {
            throw WriteFailed(path: file.path, reason: "\(error)")
        }
        logger.notice("first start: \(entries.map(\.key).joined(separator: ", ")) written to \(file.path) (readable only by this user); store them, then delete the file")
    }

    /// Reads one value back (tests, scripts).
    public static func value(_ name: String, dataDirectory: String) -> String? {
        let file = URL(fileURLWithPath: dataDirectory, isDirectory: true).appendingPathComponent(fileName)
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("\(name): ") {
            return String(line.dropFirst(name.count + 2))
        }
        return nil
    }
}
