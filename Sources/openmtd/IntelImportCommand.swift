import ArgumentParser
import Foundation
import MTDCore
import MTDIntel

struct IntelImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Add an intelligence file: STIX2 bundle, stalkerware YAML or samples CSV, host list, uBlock rules, or app intelligence CSV/JSON.",
        discussion: """
        The file is checked, then copied into <data-dir>/intel and listed in its manifest.json; every later \
        command and the server load it on top of the shipped intelligence. Importing again with the same --id \
        replaces the earlier file. App intelligence CSV header: classification,id,signer,sha256,label.
        """
    )

    @Option(name: .customLong("format"), help: "One of: \(IntelligenceFormat.allCases.map(\.rawValue).joined(separator: ", ")). Default: guessed from the name and content.")
    var format: String?

    @Option(name: .customLong("classification"), help: "What a match means, e.g. PHISHING_CONTENT for a host list (required for host lists and uBlock rules).")
    var classification: String?

    @Option(name: .customLong("name"), help: "Human name of the source. Default: the file name.")
    var name: String?

    @Option(name: .customLong("id"), help: "Stable source id. Default: derived from the file name.")
    var id: String?

    @OptionGroup var intel: IntelOptions

    @Argument(help: "The file to import.")
    var file: String

    func run() throws {
        let url = URL(fileURLWithPath: file)
        let data = try ProgressReader.read(url, quiet: intel.quiet)
        let format = try resolveFormat(url: url, data: data)
        var parsedClassification: ThreatClassification?
        if let classification {
            guard let value = ThreatClassification(rawValue: classification.uppercased()) else {
                let hint = Suggestion.closest(to: classification, in: ThreatClassification.allCases.map(\.rawValue)).map { " Did you mean \($0)?" } ?? ""
                throw Terminal.badInput("--classification: unknown classification \"\(classification)\".\(hint) `openmtd intel stats --classifications` lists them.")
            }
            parsedClassification = value
        }
        let stem = url.deletingPathExtension().lastPathComponent
        let sourceId = id ?? "import:\(stem.lowercased().replacingOccurrences(of: " ", with: "-"))"
        let storedName = "\(sourceId.replacingOccurrences(of: ":", with: "_").replacingOccurrences(of: "/", with: "_")).\(url.pathExtension.isEmpty ? "txt" : url.pathExtension)"
        var entry = IntelligenceFileEntry(
            file: storedName, format: format, id: sourceId, name: name ?? url.lastPathComponent,
            classification: parsedClassification ?? Self.defaultClassification(format), attribution: "imported from \(url.lastPathComponent)")
        if format == .stalkerwareYAML, parsedClassification == nil { entry.classification = .surveillanceware }

        if !intel.quiet { Terminal.progress("checking \(url.lastPathComponent) as \(format.rawValue)…") }
        var builder = IntelligenceBuilder()
        do {
            try builder.add(entry, data: data)
        } catch {
            throw Terminal.badInput("\(file): \(error.message)")
        }
        let intelligence = builder.build(os: OSCatalog(), publicSuffixList: PublicSuffixList(listText: ""), cloudServices: CloudServiceCatalog(services: []))
        let total = intelligence.sourceStats.reduce(0) { $0 + $1.total }
        guard total > 0 else {
            throw Terminal.badInput("\(file): no usable indicators found in it as \(format.rawValue); check --format")
        }

        let directory = intel.importedDirectory
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try data.write(to: directory.appendingPathComponent(storedName), options: .atomic)
            let manifestURL = directory.appendingPathComponent(IntelligenceLoader.manifestFileName)
            var manifest = FileManager.default.fileExists(atPath: manifestURL.path)
                ? try IntelligenceLoader.readManifest(manifestURL) : IntelligenceManifest(files: [])
            manifest.files.removeAll { $0.id == entry.id }
            manifest.files.append(entry)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(manifest).write(to: manifestURL, options: .atomic)
        } catch {
            throw Terminal.failure("cannot store the import in \(directory.path): \(error). Check that the folder is writable, or pass --data-dir.")
        }
        for (source, stats) in zip(intelligence.sources, intelligence.sourceStats) {
            Terminal.out("imported \(source.id) (\(source.classification.rawValue)): \(stats.total) indicators — \(Self.summary(stats))\(stats.skipped > 0 ? "; \(stats.skipped) skipped" : "")")
        }
        Terminal.out("stored in \(directory.path)")
    }

    private func resolveFormat(url: URL, data: Data) throws -> IntelligenceFormat {
        if let format {
            guard let value = IntelligenceFormat(rawValue: format) else {
                throw Terminal.badInput("--format: unknown format \"\(format)\"; use one of \(IntelligenceFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return value
        }
        let head = String(decoding: data.prefix(4096), as: UTF8.self)
        switch url.pathExtension.lowercased() {
        case "stix2": return .stix2
        case "yaml", "yml": return .stalkerwareYAML
        case "csv": return head.uppercased().hasPrefix("SHA256,") ? .stalkerwareSamples : .appCSV
        case "json": return head.contains("\"apps\"") ? .appJSON : .stix2
        default:
            if head.contains("||") { return .ublockRules }
            guard classification != nil else {
                throw Terminal.badInput("\(file): a host list needs --classification (e.g. PHISHING_CONTENT, MALICIOUS_CONTENT, OFFENSIVE_CONTENT)")
            }
            return .hostList
        }
    }

    static func defaultClassification(_ format: IntelligenceFormat) -> ThreatClassification? {
        switch format {
        case .stix2: .spyware
        case .stalkerwareYAML, .stalkerwareSamples: .surveillanceware
        case .hostList, .ublockRules, .appCSV, .appJSON: nil
        }
    }

    static func summary(_ stats: SourceStats) -> String {
        let parts: [(String, Int)] = [
            ("domains", stats.domains), ("IPs", stats.ipAddresses), ("URLs", stats.urls), ("app ids", stats.appIds),
            ("signers", stats.signers), ("package hashes", stats.packageHashes), ("processes", stats.processes),
            ("file paths", stats.filePaths), ("file names", stats.fileNames), ("profiles", stats.configurationProfiles),
            ("Android properties", stats.androidProperties), ("emails", stats.emails),
        ]
        return parts.filter { $0.1 > 0 }.map { "\($0.1) \($0.0)" }.joined(separator: ", ")
    }
}

/// Reads a file in chunks, reporting progress on stderr for large files.
enum ProgressReader {
    static let chunk = 4 * 1024 * 1024

    static func read(_ url: URL, quiet: Bool) throws -> Data {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw Terminal.badInput("\(url.path): cannot be read: \(FileManager.default.fileExists(atPath: url.path) ? "permission denied" : "no such file")")
        }
        defer { try? handle.close() }
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        let showProgress = !quiet && size > 8 * 1024 * 1024
        var data = Data()
        data.reserveCapacity(size)
        var lastPercent = -1
        while true {
            let piece: Data
            do {
                piece = try handle.read(upToCount: chunk) ?? Data()
            } catch {
                throw Terminal.failure("\(url.path): read failed: \(error.localizedDescription)")
            }
            if piece.isEmpty { break }
            data.append(piece)
            if showProgress, size > 0 {
                let percent = min(100, data.count * 100 / size)
                if percent / 10 != lastPercent / 10 {
                    lastPercent = percent
                    Terminal.progress(String(format: "reading %@: %d%% (%.1f of %.1f MB)", url.lastPathComponent, percent, Double(data.count) / 1e6, Double(size) / 1e6))
                }
            }
        }
        return data
    }
}
