import Foundation
import MTDCore
import Yams

/// Events over time for a simulated fleet, e.g. stalkerware installed on 5 % of devices at minute 2
/// and removed at minute 5.
public struct Scenario: Sendable, Equatable {
    public enum Action: String, Sendable, CaseIterable, Codable {
        case installStalkerware = "install-stalkerware"
        case removeStalkerware = "remove-stalkerware"
        case visitPhishing = "visit-phishing"
        case jailbreak
        case clearJailbreak = "clear-jailbreak"
    }

    public struct Event: Sendable, Equatable {
        public var at: Double
        public var action: Action
        /// Share of the fleet (0…1); removals and clean-ups default to the devices the matching event changed.
        public var share: Double?

        public init(at: Double, action: Action, share: Double?) {
            self.at = at
            self.action = action
            self.share = share
        }
    }

    public var events: [Event]

    public init(events: [Event]) {
        self.events = events.sorted { $0.at < $1.at }
    }

    /// Reads JSON or YAML (`events: [{at: 2m, action: install-stalkerware, share: 0.05}]`); errors
    /// name the file and the field.
    public static func load(_ url: URL) throws(FleetError) -> Scenario {
        let file = url.path
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch { throw .scenario(file: file, field: "$", message: "cannot be read: \(error.localizedDescription)") }
        let root: Any?
        do { root = try Yams.load(yaml: text) } catch { throw .scenario(file: file, field: "$", message: "is neither JSON nor YAML: \(error)") }
        guard let object = root as? [String: Any] else { throw .scenario(file: file, field: "$", message: "expected an object with an events list") }
        for key in object.keys where key != "events" {
            throw .scenario(file: file, field: "$.\(key)", message: "unknown field; the scenario has only \"events\"")
        }
        guard let list = object["events"] as? [Any] else { throw .scenario(file: file, field: "$.events", message: "expected a list of events") }
        var events: [Event] = []
        for (index, item) in list.enumerated() {
            let path = "$.events[\(index)]"
            guard let event = item as? [String: Any] else { throw .scenario(file: file, field: path, message: "expected an object") }
            for key in event.keys where !["at", "action", "share"].contains(key) {
                let hint = Suggestion.closest(to: key, in: ["at", "action", "share"]).map { "; did you mean \"\($0)\"?" } ?? ""
                throw .scenario(file: file, field: "\(path).\(key)", message: "unknown field\(hint)")
            }
            guard let at = event["at"] else { throw .scenario(file: file, field: "\(path).at", message: "missing; when it happens, e.g. 90s, 2m or 1h") }
            guard let seconds = duration("\(at)") else {
                throw .scenario(file: file, field: "\(path).at", message: "\"\(at)\" is not a duration; use 90s, 2m or 1h")
            }
            guard let name = event["action"] as? String else {
                throw .scenario(file: file, field: "\(path).action", message: "missing; one of \(Action.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let action = Action(rawValue: name) else {
                let hint = Suggestion.closest(to: name, in: Action.allCases.map(\.rawValue)).map { "; did you mean \"\($0)\"?" } ?? ""
                throw .scenario(file: file, field: "\(path).action", message: "unknown action \"\(name)\"\(hint)")
            }
            var share: Double?
            if let raw = event["share"] {
                guard let value = (raw as? Double) ?? (raw as? Int).map(Double.init), value > 0, value <= 1 else {
                    throw .scenario(file: file, field: "\(path).share", message: "\(raw) is not a share between 0 and 1 (0.05 is 5 %)")
                }
                share = value
            } else if action == .installStalkerware || action == .visitPhishing || action == .jailbreak {
                throw .scenario(file: file, field: "\(path).share", message: "missing; which share of the fleet, e.g. 0.05")
            }
            events.append(Event(at: seconds, action: action, share: share))
        }
        return Scenario(events: events)
    }

    /// `90`, `90s`, `2m`, `1.5h` → seconds.
    public static func duration(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        // "inf" and "1e308h" parse as numbers; a scenario step must happen at a finite time.
        func finite(_ value: Double) -> Double? { value.isFinite && value >= 0 ? value : nil }
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            return Double(trimmed.dropLast(suffix.count)).flatMap { finite($0 * factor) }
        }
        return Double(trimmed).flatMap(finite)
    }
}
