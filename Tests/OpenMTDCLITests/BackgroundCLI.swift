import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A long-running `openmtd` command (a server) with its log collected, stopped with Ctrl-C.
final class BackgroundCLI: @unchecked Sendable {
    let process = Process()
    let port: Int
    let environment: [String: String]
    private let lock = NSLock()
    private var collected = Data()

    init(_ arguments: [String], port: Int, environment: [String: String] = [:]) {
        self.port = port
        self.environment = environment
        process.arguments = arguments
    }

    var log: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: collected, as: UTF8.self)
    }

    func start() throws {
        guard let executable = CLI.executable else { throw CLIError.notBuilt }
        process.executableURL = executable
        process.currentDirectoryURL = CLI.root
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.lock()
            self.collected.append(data)
            self.lock.unlock()
        }
        try process.run()
    }

    /// The text after `prefix` in the first log match of `pattern`, once the server answers /healthz.
    func logged(_ pattern: String, prefix: String, timeout: Double = 90) async throws -> String? {
        let start = Date()
        while Date().timeIntervalSince(start) < timeout, process.isRunning {
            if let range = log.range(of: pattern, options: .regularExpression), try await healthy() {
                return String(log[range].dropFirst(prefix.count))
            }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        return nil
    }

    /// A value from `<dataDirectory>/first-start-secrets.txt` (where first-start secrets go instead of
    /// the log), once the server answers /healthz.
    func firstStartSecret(_ name: String, dataDirectory: String, timeout: Double = 90) async throws -> String? {
        let file = URL(fileURLWithPath: dataDirectory).appendingPathComponent("first-start-secrets.txt")
        let start = Date()
        while Date().timeIntervalSince(start) < timeout, process.isRunning {
            if try await healthy(), let text = try? String(contentsOf: file, encoding: .utf8),
               let line = text.split(separator: "\n").first(where: { $0.hasPrefix("\(name): ") }) {
                return String(line.dropFirst(name.count + 2))
            }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        return nil
    }

    func healthy() async throws -> Bool {
        guard let url = URL(string: "http://127.0.0.1:\(port)/healthz") else { return false }
        do {
            let (_, response) = try await URLSession.shared.data(from: url)
            return (response as? HTTPURLResponse)?.statusCode == 200
        } catch {
            return false
        }
    }

    /// Sends `signal` and waits up to `seconds` for the process to exit; false if it is still running.
    func signal(_ signal: Int32, within seconds: Double) async throws -> Bool {
        kill(process.processIdentifier, signal)
        let start = Date()
        while process.isRunning, Date().timeIntervalSince(start) < seconds {
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        return !process.isRunning
    }

    func stop() {
        if process.isRunning {
            process.interrupt()
            process.waitUntilExit()
        }
    }
}
