import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `openmtd uem serve` and `openmtd uem enroll`, run as a user would, against each other.
@Suite(.serialized) struct UEMCommandTests {
    /// A running `openmtd uem serve` with its log collected.
    final class RunningUEM: @unchecked Sendable {
        let process = Process()
        let port: Int
        private let lock = NSLock()
        private var collected = Data()

        init(port: Int, dataDirectory: String) {
            self.port = port
            process.arguments = ["uem", "serve", "--port", "\(port)", "--data-dir", dataDirectory]
        }

        var log: String {
            lock.lock()
            defer { lock.unlock() }
            return String(decoding: collected, as: UTF8.self)
        }

        func start() throws {
            guard let executable = CLI.executable else { throw CLIError.notBuilt }
            process.executableURL = executable
            var environment = ProcessInfo.processInfo.environment
            environment["OPENMTD_UEM_ADMIN_PASSWORD"] = "cli-uem-admin-pass"
            process.environment = environment
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

        /// The tenant code from the first-start log line.
        func tenantCode(timeout: Double = 60) async throws -> String? {
            let start = Date()
            while Date().timeIntervalSince(start) < timeout, process.isRunning {
                if let range = log.range(of: #"aw-tenant-code: [0-9A-Fa-f]+"#, options: .regularExpression) {
                    let code = String(log[range].dropFirst("aw-tenant-code: ".count))
                    if try await healthy() { return code }
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

        func stop() {
            if process.isRunning {
                process.interrupt()
                process.waitUntilExit()
            }
        }
    }

    @Test func enrollsDevicesInAStandaloneUEM() async throws {
        let folder = try CLI.temporaryFolder()
        let uem = RunningUEM(port: Int.random(in: 20_000...40_000), dataDirectory: folder.appendingPathComponent("uem").path)
        try uem.start()
        defer { uem.stop() }
        let code = try #require(try await uem.tenantCode(), "no tenant code in the log:\n\(uem.log)")
        let url = "http://127.0.0.1:\(uem.port)/API"
        let secret = ["OPENMTD_UEM_PASSWORD": "cli-uem-admin-pass"]

        var result = try CLI.run(["uem", "enroll", "--url", url, "--tenant-code", code, "--udid", "cli-udid-1", "--platform", "Apple", "--user", "jo",
                                  "--email", "jo@example.com", "--model", "iPhone 15", "--os", "18.1"], environment: secret)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("enrolled cli-udid-1: Id "))

        result = try CLI.run(["uem", "enroll", "--url", url, "--tenant-code", code, "--count", "120", "--prefix", "fleet"], environment: secret)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "enrolled 120 devices with prefix fleet\n")
        #expect(result.stderr.contains("enrolled 100/120"), "progress is shown")
        #expect(result.stderr.contains("enrolled 120/120"))

        result = try CLI.run(["uem", "enroll", "--url", url, "--tenant-code", code, "--udid", "x", "--user", "jo"], environment: ["OPENMTD_UEM_PASSWORD": "wrong"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("check --username and the password"), "\(result.stderr)")
        result = try CLI.run(["uem", "enroll", "--url", url, "--tenant-code", code, "--user", "jo"], environment: secret)
        #expect(result.status == 2)
        #expect(result.stderr.contains("give --udid for one device, or --count for generated ones"))
        result = try CLI.run(["uem", "enroll", "--url", url, "--tenant-code", code, "--udid", "x", "--user", "jo", "--platform", "Windows"], environment: secret)
        #expect(result.status == 2)
        #expect(result.stderr.contains("--platform must be Apple or Android, not Windows"))
    }

    @Test func serveRefusesHalfATLSSetup() throws {
        let result = try CLI.run(["serve", "--port", "18443", "--tls-certificate", "/nonexistent/cert.pem"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("TLS needs both --tls-certificate and --tls-key"), "\(result.stderr)")
    }
}
