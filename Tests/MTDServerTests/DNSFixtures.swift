import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TestSupport
import Testing

/// dnsmasq on loopback as the resolver's upstream, serving a test zone; it logs each query it
/// receives, so tests can count what reached the upstream.
final class DnsmasqUpstream: Sendable {
    let port: Int
    let folder: URL
    private let process: Process

    private init(port: Int, folder: URL, process: Process) {
        self.port = port
        self.folder = folder
        self.process = process
    }

    static func start(records: [String]) async throws -> DnsmasqUpstream {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/dnsmasq") else { try Prerequisite.missing("dnsmasq (apt-get install dnsmasq)") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("openmtd-dnsmasq-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for attempt in 0..<10 {
            let port = Int.random(in: 20_000...60_000)
            let config = (["no-resolv", "no-hosts", "port=\(port)", "listen-address=127.0.0.1", "bind-interfaces", "keep-in-foreground",
                           "log-queries", "log-facility=\(folder.path)/queries.log", "local-ttl=300", "auth-ttl=300"] + records).joined(separator: "\n")
            let file = folder.appendingPathComponent("dnsmasq-\(attempt).conf")
            try config.write(to: file, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/dnsmasq")
            process.arguments = ["--conf-file=\(file.path)", "--pid-file=\(folder.path)/pid-\(attempt)", "--user=root"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let upstream = DnsmasqUpstream(port: port, folder: folder, process: process)
            // Listening once it answers; a taken port makes it exit at once.
            let ready = try await Wait.until(within: 5) {
                guard process.isRunning else { return false }
                return await dig(["@127.0.0.1", "-p", "\(port)", "+time=1", "+tries=1", "probe.openmtd.test"]).contains("status:")
            }
            if ready != nil { return upstream }
            upstream.stop()
        }
        throw DNSFixtureFailure(description: "dnsmasq did not start on a free port")
    }

    /// How many queries for `name` reached the upstream.
    func queriesReceived(for name: String) -> Int {
        let log = (try? String(contentsOf: folder.appendingPathComponent("queries.log"), encoding: .utf8)) ?? ""
        return log.components(separatedBy: "\n").filter { $0.contains("query[") && $0.contains(" \(name) from") }.count
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

struct DNSFixtureFailure: Error, CustomStringConvertible {
    var description: String
}

/// Runs a DNS client from Debian's packages (`dig`, `kdig`) and returns what it printed.
func dig(_ arguments: [String], tool: String = "/usr/bin/dig") async -> String { await runTool(tool, arguments) }

/// Runs a program to its end and returns what it printed (standard output and error). The wait
/// happens on a Dispatch thread: blocking one of the few cooperative threads would starve the
/// server under test (its answers run in tasks) on a two-core machine.
func runTool(_ tool: String, _ arguments: [String]) async -> String {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: runToolBlocking(tool, arguments)) }
    }
}

private func runToolBlocking(_ tool: String, _ arguments: [String]) -> String {
    // Spawned and reaped here (posix_spawn, waitpid) rather than with Foundation's Process, whose
    // exit monitoring stalled in this suite while dnsmasq ran; output goes to a file.
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("openmtd-dig-\(UUID().uuidString).txt").path
    defer { try? FileManager.default.removeItem(atPath: file) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv = ([tool] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, tool, &actions, nil, argv, environ) == 0 else { return "could not run \(tool)" }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    return (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
}

func requireDNSClients() throws {
    for tool in ["/usr/bin/dig", "/usr/bin/kdig"] where !FileManager.default.isExecutableFile(atPath: tool) {
        try Prerequisite.missing("\(tool) (apt-get install bind9-dnsutils knot-dnsutils)")
    }
}
