import MTDCore
import MTDIntel

/// Forensic extras: spyware process names, file paths and configuration profiles from STIX2 bundles.
enum DiagnosticsDetector {
    static func detect(_ checkIn: CheckIn, engine: DetectionEngine, into collector: inout FindingCollector) {
        guard let diagnostics = checkIn.diagnostics else { return }
        let intel = engine.intelligence
        for (index, process) in (diagnostics.processes ?? []).enumerated() {
            for match in intel.processMatches(process) {
                collector.add(match, subject: "process:\(process)", field: "$.diagnostics.processes[\(index)]", observed: process)
            }
        }
        for (index, path) in (diagnostics.filePaths ?? []).enumerated() {
            for match in intel.filePathMatches(path) {
                collector.add(match, subject: "file:\(path)", field: "$.diagnostics.filePaths[\(index)]", observed: path)
            }
        }
        for (index, profile) in (diagnostics.configurationProfiles ?? []).enumerated() {
            for match in intel.profileMatches(profile) {
                collector.add(match, subject: "profile:\(profile)", field: "$.diagnostics.configurationProfiles[\(index)]", observed: profile)
            }
        }
    }
}
