import ArgumentParser
import Foundation
import MTDIntel

/// Where imported intelligence lives and how to load everything.
struct IntelOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "OpenMTD data folder; imported intelligence lives in <data-dir>/intel (env OPENMTD_DATA_DIR, default ./openmtd-data).")
    var dataDirectory: String?

    @Flag(name: .customLong("quiet"), help: "Do not report loading progress.")
    var quiet = false

    var resolvedDataDirectory: URL {
        let path = dataDirectory ?? ProcessInfo.processInfo.environment["OPENMTD_DATA_DIR"] ?? "openmtd-data"
        return URL(fileURLWithPath: path, isDirectory: true)
    }

    var importedDirectory: URL { resolvedDataDirectory.appendingPathComponent("intel", isDirectory: true) }

    func load(verbose: Bool = false) throws -> ThreatIntelligence {
        do {
            return try IntelligenceLoader.load(
                importedDirectory: importedDirectory,
                progress: verbose && !quiet ? { Terminal.progress($0) } : nil)
        } catch {
            throw Terminal.failure("cannot load threat intelligence: \(error)")
        }
    }
}
