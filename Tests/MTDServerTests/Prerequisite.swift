import Foundation
import Testing

/// What a test needs from the machine (PostgreSQL, Chromium). Without it the test is reported as
/// skipped, never as passed; under `CI=true` (set by CI services and by `.ci/run`) a missing
/// prerequisite fails the test, so a broken install step cannot pass as green.
enum Prerequisite {
    static var inCI: Bool {
        let value = ProcessInfo.processInfo.environment["CI"]?.lowercased()
        return value == "true" || value == "1"
    }

    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    static func missing(_ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Never {
        if inCI {
            Issue.record("\(what) (required under CI=true)", sourceLocation: sourceLocation)
            throw Missing(description: what)
        }
        try Test.cancel(Comment(rawValue: what), sourceLocation: sourceLocation)
    }
}
