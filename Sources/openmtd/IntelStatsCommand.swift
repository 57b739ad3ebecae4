import ArgumentParser
import Foundation
import MTDCore
import MTDIntel

struct IntelStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Count indicators per source and kind; list the OS catalog, cloud services and classifications."
    )

    @Flag(name: .customLong("json"), help: "Print JSON.")
    var json = false

    @Flag(name: .customLong("classifications"), help: "Print the threat classifications instead: type, default severity, deployment modes, description.")
    var classifications = false

    @OptionGroup var intel: IntelOptions

    func run() throws {
        if classifications {
            printClassifications()
            return
        }
        let started = Date()
        let intelligence = try intel.load()
        let seconds = Date().timeIntervalSince(started)
        if json {
            struct Row: Encodable {
                var source: IndicatorSource
                var counts: SourceStats
            }
            struct Output: Encodable {
                var sources: [Row]
                var domainKeys: Int
                var iosReleases: Int
                var androidCycles: Int
                var knownExploitedCVEs: Int
                var cloudServices: [String]
                var loadSeconds: Double
            }
            let output = Output(
                sources: zip(intelligence.sources, intelligence.sourceStats).map { Row(source: $0, counts: $1) },
                domainKeys: intelligence.domainCount, iosReleases: intelligence.os.iosReleaseCount,
                androidCycles: intelligence.os.androidCycleCount, knownExploitedCVEs: intelligence.os.knownExploitedCount,
                cloudServices: intelligence.cloudServices.services.map(\.name), loadSeconds: seconds)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            Terminal.out(String(decoding: (try? encoder.encode(output)) ?? Data(), as: UTF8.self))
            return
        }
        let headers = ["SOURCE", "CLASSIFICATION", "DOMAINS", "IPS", "URLS", "APP IDS", "SIGNERS", "HASHES", "FORENSIC", "SKIPPED"]
        var rows: [[String]] = []
        var total = SourceStats()
        for (source, stats) in zip(intelligence.sources, intelligence.sourceStats) {
            let forensic = stats.processes + stats.filePaths + stats.fileNames + stats.configurationProfiles + stats.androidProperties + stats.emails
            rows.append([source.id, source.classification.rawValue, "\(stats.domains)", "\(stats.ipAddresses)", "\(stats.urls)",
                         "\(stats.appIds)", "\(stats.signers)", "\(stats.packageHashes)", "\(forensic)", "\(stats.skipped)"])
            total.domains += stats.domains
            total.ipAddresses += stats.ipAddresses
            total.urls += stats.urls
            total.appIds += stats.appIds
            total.signers += stats.signers
            total.packageHashes += stats.packageHashes
            total.processes += forensic
            total.skipped += stats.skipped
        }
        rows.append(["TOTAL", "", "\(total.domains)", "\(total.ipAddresses)", "\(total.urls)", "\(total.appIds)",
                     "\(total.signers)", "\(total.packageHashes)", "\(total.processes)", "\(total.skipped)"])
        Terminal.out(TextTable.render(headers: headers, rows: rows))
        Terminal.out("")
        Terminal.out("Distinct domain and IP keys: \(intelligence.domainCount)")
        Terminal.out("OS catalog: \(intelligence.os.iosCycleCount) iOS majors, \(intelligence.os.iosReleaseCount) iOS releases, \(intelligence.os.androidCycleCount) Android releases, \(intelligence.os.knownExploitedCount) known exploited CVEs (CISA KEV)")
        Terminal.out("Cloud services: \(intelligence.cloudServices.services.map(\.name).joined(separator: ", "))")
        Terminal.out(String(format: "Loaded in %.2f s", seconds))
    }

    private func printClassifications() {
        let rows = ThreatClassification.allCases.map { classification in
            [classification.rawValue, classification.type.rawValue, classification.defaultSeverity.rawValue,
             classification.detectableModes.map(\.rawValue).sorted().joined(separator: "+"), classification.summary]
        }
        Terminal.out(TextTable.render(headers: ["CLASSIFICATION", "TYPE", "DEFAULT", "MODES", "DESCRIPTION"], rows: rows))
    }
}

enum TextTable {
    /// Left-aligned columns; the last column is not padded.
    static func render(headers: [String], rows: [[String]]) -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }
}
