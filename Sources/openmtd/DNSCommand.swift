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

/// Explains what the resolver does with a name: the action, the class, the indicator that matched
/// and its source, and the answer a client gets. Offline it decides from a policy file and the
/// loaded intelligence; with `--server` (or `--device`) it asks the running server, which decides
/// under the enterprise's policy in force and adds the device's side.
struct DNSQueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Explain the protective resolver's decision for NAME (action, class, indicator, source, answer).",
        discussion: """
        Offline (the default) it decides as `openmtd serve` does, from the shipped and imported intelligence and \
        the policy (--policy, default: the built-in policy). With --server, or --device, it asks that server \
        (GET /api/v1/dns/decision): the enterprise's policy in force and the server's intelligence, and for \
        --device ID whether that device's query is its own (resolver token), whether a hit becomes its threat, \
        and the threat it already has for the indicator. Credentials: OPENMTD_API_TOKEN (an admin API token), \
        or OPENMTD_ADMIN_PASSWORD with --admin-email for a session. \
        Exit code 0 whatever the decision; 1 when the server cannot answer; 2 for a bad name, type, policy or option.
        """
    )

    @Argument(help: "The name asked, e.g. login.example.com")
    var name: String

    @Option(name: .customLong("type"), help: "Record type asked (A, AAAA, TXT, TYPE65, …); it decides the blocked answer's form.")
    var type = "A"

    @Option(name: .customLong("policy"), help: "Policy file, JSON or YAML (.yaml/.yml), for an offline decision. Default: the built-in default policy.")
    var policyFile: String?

    @Option(name: .customLong("device"), help: "A device id: explain that device's query (needs the server).")
    var device: String?

    @Option(name: .customLong("server"), help: "Ask this OpenMTD server instead of deciding offline (default with --device: http://127.0.0.1:8080).")
    var server: String?

    @Option(name: .customLong("admin-email"), help: "The admin that logs in with OPENMTD_ADMIN_PASSWORD when no OPENMTD_API_TOKEN is set.")
    var adminEmail = "admin@openmtd.local"

    @Flag(name: .customLong("json"), help: "Print the decision as one JSON object.")
    var json = false

    @OptionGroup var intel: IntelOptions

    func run() async throws {
        guard let parsed = DNSName(name.lowercased()), !parsed.host.isEmpty else {
            throw Terminal.badInput("NAME \"\(name.prefix(80))\" is not a DNS name: labels of 1 to 63 bytes, 255 bytes in all")
        }
        guard let recordType = DNSRecordType(name: type) else {
            throw Terminal.badInput("--type \(type.prefix(20)): expected a record type such as A, AAAA, TXT or TYPE65")
        }
        if server != nil || device != nil {
            if policyFile != nil { throw Terminal.badInput("--policy decides offline; with --server or --device the server's policy decides. Use one or the other") }
            try await explainOnServer(host: parsed.host, type: recordType)
            return
        }
        let engine = try PolicyFile.engine(policyFile, intel: intel)
        let host = parsed.host
        let decision = engine.dnsDecision(for: host)
        let answer = decision.answerDescription(type: recordType, rules: engine.protectiveDNSRules)
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
        let explanation = DNSExplanation(
            name: host, type: recordType.description, action: decision.verdict.rawValue, classification: decision.classification?.rawValue,
            indicator: decision.indicator, source: decision.source, label: decision.label, allowedBy: decision.allowedBy, answer: answer)
        Terminal.out(explanation.lines().joined(separator: "\n"))
    }

    private func explainOnServer(host: String, type: DNSRecordType) async throws {
        let base = server ?? "http://127.0.0.1:8080"
        guard let baseURL = URL(string: base), baseURL.scheme == "http" || baseURL.scheme == "https", baseURL.host != nil else {
            throw Terminal.badInput("--server \(base.prefix(200)) is not an http(s) address such as http://127.0.0.1:8080")
        }
        if let device, UUID(uuidString: device) == nil {
            throw Terminal.badInput("--device \(device.prefix(80)) is not a device id (a UUID, as in the console's device page)")
        }
        let client = AdminAPIClient(base: baseURL)
        defer { client.close() }
        let credential = try await client.credential(adminEmail: adminEmail)
        var items = [URLQueryItem(name: "name", value: host), URLQueryItem(name: "type", value: type.description)]
        if let device { items.append(URLQueryItem(name: "device", value: device)) }
        let body = try await client.get("api/v1/dns/decision", query: items, credential: credential)
        await client.logout(credential)
        if json {
            Terminal.out(String(decoding: body, as: UTF8.self))
            return
        }
        let explanation: DNSExplanation
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            explanation = try decoder.decode(DNSExplanation.self, from: body)
        } catch {
            throw Terminal.failure("the server's answer is not a DNS decision (\(error)); is \(base) an OpenMTD server?")
        }
        var lines = explanation.lines()
        let version = explanation.policyVersion.map { $0 == 0 ? "the default policy (never edited)" : "version \($0)" } ?? "the policy"
        lines.append("  policy:    \(version) in force on \(base)"
            + (explanation.resolverRunning == false ? " (this server does not run the resolver: start it with --dns-upstream)" : ""))
        if let device = explanation.device { lines += device.lines(decided: explanation) }
        Terminal.out(lines.joined(separator: "\n"))
    }
}

/// The decision as `openmtd dns query` prints it; the same fields as the admin API's
/// `DNSDecisionExplanation`, decoded from the server or filled offline.
struct DNSExplanation: Decodable {
    struct Device: Decodable {
        struct Threat: Decodable {
            var id: String
            var classification: String
            var severity: String
            var status: String
            var detectedAt: Date
            var lastSeenAt: Date?
        }

        var id: String
        var resolverToken: String
        var lastQueryAt: Date?
        var reported: Bool
        var threat: Threat?

        func lines(decided: DNSExplanation) -> [String] {
            var lines = ["  device:    \(id)"]
            switch resolverToken {
            case "ACTIVE":
                lines.append("  token:     active; its queries are the device's" + (lastQueryAt.map { ", last one at \($0.ISO8601Format())" } ?? ", none seen yet"))
            case "REVOKED":
                lines.append("  token:     revoked (deactivated); its queries count for the enterprise only")
            default:
                lines.append("  token:     none; the device has no resolver token (activate it again to get one)")
            }
            if reported, let classification = decided.classification {
                lines.append("  reported:  a query opens or refreshes a \(classification) threat on this device")
            } else {
                lines.append("  reported:  no threat for this device")
            }
            if let threat {
                lines.append("  threat:    \(threat.id) \(threat.status) \(threat.severity) \(threat.classification), detected \(threat.detectedAt.ISO8601Format())"
                    + (threat.lastSeenAt.map { ", last query \($0.ISO8601Format())" } ?? ""))
            }
            return lines
        }
    }

    var name: String
    var type: String
    var action: String
    var classification: String?
    var indicator: String?
    var source: String?
    var label: String?
    var allowedBy: String?
    var answer: String
    var policyVersion: Int?
    var resolverRunning: Bool?
    var device: Device?

    init(name: String, type: String, action: String, classification: String?, indicator: String?, source: String?, label: String?,
         allowedBy: String?, answer: String) {
        self.name = name
        self.type = type
        self.action = action
        self.classification = classification
        self.indicator = indicator
        self.source = source
        self.label = label
        self.allowedBy = allowedBy
        self.answer = answer
    }

    func lines() -> [String] {
        var lines = ["\(name) \(type): \(action)"]
        if let classification, let indicator, let source {
            lines.append("  class:     \(classification)")
            lines.append("  indicator: \(indicator)\(indicator == name ? "" : " (a parent domain of the name)")")
            lines.append("  source:    \(source)\(label.map { ", \($0)" } ?? "")")
        } else if let allowedBy {
            lines.append("  allowed by the allow list entry \(allowedBy)")
        } else {
            lines.append("  no indicator or deny-list entry matches")
        }
        lines.append("  answer:    \(answer)")
        return lines
    }
}
