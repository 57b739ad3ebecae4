import ArgumentParser
import Foundation
import MTDCore
import MTDDetection

struct DNSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns",
        abstract: "Ask the protective resolver's decision logic about a name.",
        subcommands: [DNSQueryCommand.self]
    )
}

/// Explains what the resolver does with a name under a policy and the loaded intelligence, offline:
/// the action, the class, the indicator that matched and its source, and the answer a client gets.
struct DNSQueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Explain the protective resolver's decision for NAME (action, class, indicator, source, answer).",
        discussion: """
        Decides as `openmtd serve` does, from the shipped and imported intelligence and the policy \
        (--policy, default: the built-in policy). Exit code 0 whatever the decision; 2 for a bad name, type or policy. \
        A device's own policy and its recent hits need the server; --device is not supported yet.
        """
    )

    @Argument(help: "The name asked, e.g. login.example.com")
    var name: String

    @Option(name: .customLong("type"), help: "Record type asked (A, AAAA, TXT, TYPE65, …); it decides the blocked answer's form.")
    var type = "A"

    @Option(name: .customLong("policy"), help: "Policy file, JSON or YAML (.yaml/.yml). Default: the built-in default policy.")
    var policyFile: String?

    @Flag(name: .customLong("json"), help: "Print the decision as one JSON object.")
    var json = false

    @OptionGroup var intel: IntelOptions

    func run() throws {
        guard let parsed = DNSName(name.lowercased()), !parsed.host.isEmpty else {
            throw Terminal.badInput("NAME \"\(name.prefix(80))\" is not a DNS name: labels of 1 to 63 bytes, 255 bytes in all")
        }
        guard let recordType = DNSRecordType(name: type) else {
            throw Terminal.badInput("--type \(type.prefix(20)): expected a record type such as A, AAAA, TXT or TYPE65")
        }
        let engine = try PolicyFile.engine(policyFile, intel: intel)
        let host = parsed.host
        let decision = engine.dnsDecision(for: host)
        let answer = Self.answer(decision, type: recordType, rules: engine.protectiveDNSRules)
        if json {
            var object: [String: Any] = ["name": host, "type": recordType.description, "action": decision.verdict.rawValue, "answer": answer]
            object["classification"] = decision.classification?.rawValue
            object["indicator"] = decision.indicator
            object["source"] = decision.source
            object["label"] = decision.label
            object["allowedBy"] = decision.allowedBy
            object["extendedError"] = decision.extendedErrorCode.map { ["code": Int($0), "text": decision.explanation] as [String: Any] }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            Terminal.out(String(decoding: data, as: UTF8.self))
            return
        }
        var lines = ["\(host) \(recordType): \(decision.verdict.rawValue)"]
        if let classification = decision.classification, let indicator = decision.indicator, let source = decision.source {
            lines.append("  class:     \(classification.rawValue)")
            lines.append("  indicator: \(indicator)\(indicator == host ? "" : " (a parent domain of the name)")")
            lines.append("  source:    \(source)\(decision.label.map { ", \($0)" } ?? "")")
        } else if let allowedBy = decision.allowedBy {
            lines.append("  allowed by the allow list entry \(allowedBy)")
        } else {
            lines.append("  no indicator or deny-list entry matches")
        }
        lines.append("  answer:    \(answer)")
        Terminal.out(lines.joined(separator: "\n"))
    }

    /// What the client receives, in words.
    static func answer(_ decision: DNSDecision, type: DNSRecordType, rules: ProtectiveDNSRules) -> String {
        guard decision.verdict == .block, let code = decision.extendedErrorCode else {
            return decision.verdict == .logOnly ? "forwarded to the upstream; the hit is reported" : "forwarded to the upstream"
        }
        let error = "Extended DNS Error \(code) (\(code == ExtendedDNSError.blocked ? "Blocked" : "Filtered")): \(decision.explanation)"
        switch rules.blockedAnswer {
        case .nxdomain:
            return "NXDOMAIN, TTL \(rules.blockedTTLSeconds) s, \(error)"
        case .nullAddress:
            let record = type == .a ? "0.0.0.0" : type == .aaaa ? "::" : "no records"
            return "NOERROR with \(record), TTL \(rules.blockedTTLSeconds) s, \(error)"
        }
    }
}
