import Foundation

/// What an application key may read.
public enum MRAScope: String, Codable, Sendable, CaseIterable, Comparable {
    case events
    case devices
    case threats
    case osVulns = "os-vulns"

    public static func < (lhs: MRAScope, rhs: MRAScope) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Space-separated stored form; unknown words are dropped.
    static func parse(_ text: String) -> Set<MRAScope> {
        Set(text.split(separator: " ").compactMap { MRAScope(rawValue: String($0)) })
    }

    static func text(_ scopes: Set<MRAScope>) -> String {
        scopes.sorted().map(\.rawValue).joined(separator: " ")
    }
}
