import Foundation

/// Reads a file named on the command line (`-` is standard input), refusing oversized input before it
/// is read into memory.
enum InputFile {
    static func read(_ path: String, limit: Int) throws(InputFileError) -> Data {
        if path == "-" {
            let data = FileHandle.standardInput.readData(ofLength: limit + 1)
            guard data.count <= limit else { throw .tooLarge(path: "standard input", limit: limit) }
            return data
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                throw .unreadable(path: path, reason: "is a folder, not a file")
            }
            throw .unreadable(path: path, reason: FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: limit + 1) ?? Data()
        } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
        guard data.count <= limit else { throw .tooLarge(path: path, limit: limit) }
        return data
    }
}

enum InputFileError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case tooLarge(path: String, limit: Int)

    var description: String {
        switch self {
        case .unreadable(let path, let reason): "\(path): cannot be read: \(reason)"
        case .tooLarge(let path, let limit): "\(path): $: document is larger than the limit of \(limit) bytes"
        }
    }
}
