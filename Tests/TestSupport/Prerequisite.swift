import Foundation
import Testing

/// Shared by the test targets (the start of the test-support target the foundation issue asks for).
///
/// What a test needs from the machine (PostgreSQL, Chromium). Without it the test is reported as
/// skipped, never as passed; under `CI=true` (set by CI services and by `.ci/run`) a missing
/// prerequisite fails the test, so a broken install step cannot pass as green.
public enum Prerequisite {
    public static var inCI: Bool {
        let value = ProcessInfo.processInfo.environment["CI"]?.lowercased()
        return value == "true" || value == "1"
    }

    public struct Missing: Error, CustomStringConvertible {
        public var description: String
    }

    public static func missing(_ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Never {
        if inCI {
            Issue.record("\(what) (required under CI=true)", sourceLocation: sourceLocation)
            throw Missing(description: what)
        }
        try Test.cancel(Comment(rawValue: what), sourceLocation: sourceLocation)
    }
}
