import ArgumentParser
import Foundation
import MTDCore
import MTDIntel

struct IntelCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Explain why values match: hosts, URLs, app ids, certificate or package hashes, process names, file paths, profile ids.",
        discussion: "Each value is tried as every kind it could be. Exit code 0 whether or not anything matches."
    )

    @Flag(name: .customLong("json"), help: "Print JSON lines, one per value.")
    var json = false

    @OptionGroup var intel: IntelOptions

    @Argument(help: "Values to check.")
    var values: [String]

    func run() throws {
        let intelligence = try intel.load()
        for value in values {
            let matches = Self.matches(for: value, in: intelligence)
            if json {
                struct Line: Encodable {
                    struct Match: Encodable {
                        var kind: String
                        var indicator: String
                        var classification: String
                        var source: String
                        var sourceName: String
                        var label: String
                    }
                    var value: String
                    var matches: [Match]
                    var registrableDomain: String?
                }
                let line = Line(
                    value: value,
                    matches: matches.map {
                        .init(kind: $0.kind.rawValue, indicator: $0.indicator, classification: $0.classification.rawValue,
                              source: $0.source.id, sourceName: $0.source.name, label: $0.label)
                    },
                    registrableDomain: intelligence.publicSuffixList.registrableDomain(of: Self.host(of: value)))
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                Terminal.out(String(decoding: (try? encoder.encode(line)) ?? Data(), as: UTF8.self))
                continue
            }
            if matches.isEmpty {
                Terminal.out("\(value): no match")
                continue
            }
            for match in matches {
                Terminal.out("\(value): \(match.classification.rawValue) — \(match.kind.rawValue) indicator \"\(match.indicator)\" (\(match.label)) from \(match.source.name) [\(match.source.id), \(match.source.file)]")
            }
        }
    }

    static func host(of value: String) -> String {
        value.contains("/") ? (URLParts(value)?.host ?? value) : value
    }

    static func matches(for value: String, in intelligence: ThreatIntelligence) -> [IntelMatch] {
        var result: [IntelMatch] = []
        if value.contains("/") && !value.hasPrefix("/") {
            let host = Self.host(of: value)
            result += intelligence.domainMatches(host)
            result += intelligence.urlMatches(value)
            return result
        }
        if let digest = HexDigest(value) {
            intelligence.forEachSignerMatch(digest) { result.append($0) }
            intelligence.forEachPackageHashMatch(digest) { result.append($0) }
            return result
        }
        if value.hasPrefix("/") {
            return intelligence.filePathMatches(value)
        }
        result += intelligence.domainMatches(value)
        intelligence.forEachAppIdMatch(value) { result.append($0) }
        result += intelligence.processMatches(value)
        result += intelligence.profileMatches(value)
        result += intelligence.androidPropertyMatches(value)
        return result
    }
}
