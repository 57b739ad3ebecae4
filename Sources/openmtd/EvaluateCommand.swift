import ArgumentParser
import Foundation
import MTDCore
import MTDDetection
import MTDIntel

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate one check-in document and print its findings, risk and security status.",
        discussion: """
        The check-in follows contracts/checkin-v1.schema.json. Every detected classification is listed, \
        including those the policy rates NONE. Exit code 2 means the check-in or policy is invalid; the \
        message names the file and the JSON path of the field.
        """
    )

    @Option(name: .customLong("as-of"), help: "Evaluate as of this day (YYYY-MM-DD) instead of today, for reproducible results.")
    var asOf: String?

    @Option(name: .customLong("policy"), help: "Policy file, JSON or YAML (.yaml/.yml). Default: the built-in default policy.")
    var policyFile: String?

    @Flag(name: .customLong("json"), help: "Print JSON: {\"findings\":[…],\"risk\":…,\"securityStatus\":…}.")
    var json = false

    @OptionGroup var intel: IntelOptions

    @Argument(help: "The check-in document (JSON); - reads standard input.")
    var checkInFile: String

    func run() throws {
        let asOfDay: Int
        if let asOf {
            guard let day = Timestamp.day(asOf), asOf.count == 10 else {
                throw Terminal.badInput("--as-of: expected a date YYYY-MM-DD, got \"\(asOf)\"")
            }
            asOfDay = day
        } else {
            asOfDay = Timestamp.day(of: Date())
        }
        let checkIn: CheckIn
        do {
            checkIn = try CheckInDecoder().decode(try InputFile.read(checkInFile, limit: CheckInDecoder().maximumBytes))
        } catch let error as DocumentError {
            throw Terminal.badInput("\(checkInFile): \(error)")
        } catch {
            throw Terminal.badInput("\(error)")
        }
        let engine = try PolicyFile.engine(policyFile, intel: intel)
        let evaluation = engine.evaluate(checkIn, asOfDay: asOfDay)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let data = (try? encoder.encode(evaluation)) ?? Data()
            Terminal.out(String(decoding: data, as: UTF8.self))
        } else {
            Terminal.out(EvaluationTable.render(evaluation, checkIn: checkIn, asOfDay: asOfDay))
        }
    }
}

/// The human-readable form of an evaluation.
enum EvaluationTable {
    static func render(_ evaluation: Evaluation, checkIn: CheckIn, asOfDay: Int) -> String {
        var lines: [String] = []
        let device = checkIn.device
        lines.append("\(device.platform.rawValue) \(device.osVersion)\(device.model.map { " (\($0))" } ?? "") · \(checkIn.agent.mode.rawValue) · as of \(Timestamp.string(fromDay: asOfDay))")
        lines.append("Security status: \(evaluation.securityStatus.rawValue) (risk \(evaluation.risk.rawValue))")
        guard !evaluation.findings.isEmpty else {
            lines.append("No threats found.")
            return lines.joined(separator: "\n")
        }
        let sorted = evaluation.findings.sorted { ($1.severity, $0.classification.rawValue) < ($0.severity, $1.classification.rawValue) }
        let rows = sorted.map { finding in
            [finding.severity.rawValue, finding.classification.rawValue, finding.evidence.subject, describe(finding.evidence)]
        }
        let headers = ["SEVERITY", "CLASSIFICATION", "SUBJECT", "EVIDENCE"]
        var widths = headers.map(\.count)
        for row in rows {
            for column in 0..<3 { widths[column] = max(widths[column], row[column].count) }
        }
        func format(_ row: [String]) -> String {
            (0..<3).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") + "  " + row[3]
        }
        lines.append("")
        lines.append(format(headers))
        lines += rows.map(format)
        return lines.joined(separator: "\n")
    }

    static func describe(_ evidence: Evidence) -> String {
        var parts: [String] = []
        if let detail = evidence.detail { parts.append(detail) }
        if let indicator = evidence.indicator, evidence.detail == nil { parts.append("matched \(indicator)") }
        if let label = evidence.label { parts.append(label) }
        if let source = evidence.sourceName ?? evidence.source { parts.append("source: \(source)") }
        return parts.joined(separator: "; ")
    }
}
