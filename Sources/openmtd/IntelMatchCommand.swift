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

    @Flag(name: .customLong("mvt-compatible"), help: "Also match as MVT does when a host has no known top-level domain: an indicator anywhere inside it counts (e.g. www.192.0.2.7).")
    var mvtCompatible = false

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
        var suffixes = PublicSuffixList(listText: "")
        if mvtCompatible {
            guard let list = IntelligenceLoader.bundledPublicSuffixList() else {
                throw Terminal.failure("the shipped public suffix list is missing from this build; --mvt-compatible needs it")
            }
            suffixes = list
        }
        let intelligence = builder.build(os: OSCatalog(), publicSuffixList: suffixes, cloudServices: CloudServiceCatalog(services: []))
        let loadSeconds = Self.seconds(since: loadStart)

        let hostData: Data
        do {
            hostData = try InputFile.read(hostsFile, limit: 1 << 31)
        } catch {
            throw Terminal.badInput("\(error)")
        }
        let matchStart = DispatchTime.now()
        let (hostCount, matchedCount, output) = hostData.withUnsafeBytes { raw in
            Self.match(raw.bindMemory(to: UInt8.self), intelligence: intelligence, lenient: mvtCompatible)
        }
        FileHandle.standardOutput.write(Data(output))
        let matchSeconds = Self.seconds(since: matchStart)
        let figures = String(format: "{\"hosts\":%d,\"matched\":%d,\"loadSeconds\":%.6f,\"matchSeconds\":%.6f}", hostCount, matchedCount, loadSeconds, matchSeconds)
        FileHandle.standardError.write(Data((figures + "\n").utf8))
    }

    /// Works on the raw bytes of the host list: no String per line, so the figure measures matching.
    static func match(_ bytes: UnsafeBufferPointer<UInt8>, intelligence: ThreatIntelligence, lenient: Bool) -> (Int, Int, [UInt8]) {
        var output: [UInt8] = []
        output.reserveCapacity(min(bytes.count, 1 << 24))
        var printed: [UInt64: Range<Int>] = [:]
        printed.reserveCapacity(4096)
        var collisions: [Range<Int>] = [] // different hosts with equal 64-bit hashes; practically never used
        var hosts = 0
        var matched = 0
        var lineStart = 0
        let count = bytes.count
        while lineStart < count {
            var lineEnd = lineStart
            while lineEnd < count, bytes[lineEnd] != 10 { lineEnd += 1 }
            var first = lineStart, last = lineEnd
            while first < last, bytes[first] == 32 || bytes[first] == 9 { first += 1 }
            while last > first, bytes[last - 1] == 32 || bytes[last - 1] == 9 || bytes[last - 1] == 13 { last -= 1 }
            lineStart = lineEnd + 1
            guard first < last, bytes[first] != 35 else { continue } // blank or '#'
            hosts += 1
            let host = UnsafeBufferPointer(rebasing: bytes[first..<last])
            guard intelligence.matchesDomain(utf8: host) || (lenient && intelligence.matchesLeniently(utf8: host)) else { continue }
            // Print each host once, comparing bytes when the 64-bit hashes agree.
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in host { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            if let earlier = printed[hash] {
                if bytes[earlier].elementsEqual(host) || collisions.contains(where: { bytes[$0].elementsEqual(host) }) { continue }
                collisions.append(first..<last)
            } else {
                printed[hash] = first..<last
            }
            matched += 1
            output.append(contentsOf: host)
            output.append(10)
        }
        return (hosts, matched, output)
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
