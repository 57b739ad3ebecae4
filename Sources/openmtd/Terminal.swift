import ArgumentParser
import Foundation

/// Where the CLI talks to people: results on stdout, progress and errors on stderr.
enum Terminal {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data(("openmtd: " + message + "\n").utf8))
    }

    static func progress(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Prints the message and ends the command with exit code 2 (bad input).
    static func badInput(_ message: String) -> ExitCode {
        error(message)
        return ExitCode(2)
    }

    static func failure(_ message: String) -> ExitCode {
        error(message)
        return ExitCode(1)
    }
}
