import ArgumentParser
import Foundation
import MTDIntel

/// The contract in DESIGN.md: the matching hosts on stdout, once each; one JSON line of figures on stderr.
struct IntelMatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "match",
        abstract: "Print each host of a list that matches a domain indicator of the given STIX2 bundles.",
        discussion: """
        A host matches when it or any parent domain of it is a domain (or IP) indicator. Matching hosts are \
        printed once each, one per line; stderr gets {"hosts":N,"matched":M,"loadSeconds":L,"matchSeconds":S}.
        """
    )

    @Option(name: .customLong("stix"), parsing: .upToNextOption, help: "STIX2 bundle files, or folders searched recursively for *.stix2 and *.json bundles.")
    var stix: [String]

    @Option(name: .customLong("hosts"), help: "Host list, one host a line (- reads standard input).")
    var hostsFile: String

    func validate() throws {
        if stix.isEmpty { throw ValidationError("give at least one bundle or folder with --stix") }
    }

    func run() throws {
        let loadStart = DispatchTime.now()
        var builder = IntelligenceBuilder()
        let files: [URL]
        do {
            files = try BundleFiles.find(stix)
        } catch {
            throw Terminal.badInput("\(error)")
        }
        for file in files {
            let entry = IntelligenceFileEntry(
                file: file.path, format: .stix2, id: "stix2:\(file.lastPathComponent)", name: file.lastPathComponent, classification: .spyware)
            do {
                try builder.add(entry, data: try Data(contentsOf: file))
            } catch let error as IntelligenceError {
                throw Terminal.badInput("\(error)")
            } catch {
                throw Terminal.badInput("\(file.path): cannot be read: \(error.localizedDescription)")
            }
        }
        let intelligence = builder.build(os: OSCatalog(), publicSuffixList: PublicSuffixList(listText: ""), cloudServices: CloudServiceCatalog(services: []))
        let loadSeconds = Self.seconds(since: loadStart)

        let hostData: Data
        do {
            hostData = try InputFile.read(hostsFile, limit: 1 << 31)
        } catch {
            throw Terminal.badInput("\(error)")
        }
        let matchStart = DispatchTime.now()
        var hostCount = 0
        var printed = Set<Substring>()
        var output = ""
        output.reserveCapacity(64 * 1024)
        let text = String(decoding: hostData, as: UTF8.self)
        for rawLine in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            var line = Substring(rawLine)
            while let last = line.utf8.last, last == UInt8(ascii: "\r") || last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { line = line.dropLast() }
            while let first = line.utf8.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { line = line.dropFirst() }
            if line.isEmpty || line.hasPrefix("#") { continue }
            hostCount += 1
            let matched = line.utf8.withContiguousStorageIfAvailable { intelligence.matchesDomain(utf8: $0) }
                ?? intelligence.matchesDomain(String(line))
            if matched, printed.insert(line).inserted {
                output += line
                output += "\n"
                if output.utf8.count > 60_000 {
                    FileHandle.standardOutput.write(Data(output.utf8))
                    output.removeAll(keepingCapacity: true)
                }
            }
        }
        FileHandle.standardOutput.write(Data(output.utf8))
        let matchSeconds = Self.seconds(since: matchStart)
        let figures = String(format: "{\"hosts\":%d,\"matched\":%d,\"loadSeconds\":%.6f,\"matchSeconds\":%.6f}", hostCount, printed.count, loadSeconds, matchSeconds)
        FileHandle.standardError.write(Data((figures + "\n").utf8))
    }

    static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}

/// STIX2 bundle files named on the command line, expanding folders.
enum BundleFiles {
    struct NotFound: Error, CustomStringConvertible {
        var path: String
        var description: String { "\(path): no such file or folder" }
    }

    static func find(_ paths: [String]) throws -> [URL] {
        var result: [URL] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw NotFound(path: path) }
            if !isDirectory.boolValue {
                result.append(URL(fileURLWithPath: path))
                continue
            }
            let root = URL(fileURLWithPath: path, isDirectory: true)
            let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
            var found: [URL] = []
            while let url = enumerator?.nextObject() as? URL {
                if url.pathExtension == "stix2" { found.append(url) }
            }
            result += found.sorted { $0.path < $1.path }
        }
        return result
    }
}
