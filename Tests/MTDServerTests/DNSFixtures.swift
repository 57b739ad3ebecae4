import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TestSupport
import Testing

// Children here are started with posix_spawn and reaped with waitpid, not with Foundation's
// Process. Foundation learns that a child exited when the child's copy of a monitoring socket
// closes, and then waits for it on the one queue that serves every child: dnsmasq closes its
// descriptors at start, which made Foundation wait for a dnsmasq that was still running, and no
// other child of the test process was seen to exit after that.

/// A child process started with posix_spawn, output to a file, descriptors above 2 closed where
/// glibc offers it.
struct SpawnedProcess: Sendable {
    let pid: pid_t
    let outputPath: String

    static func start(_ tool: String, _ arguments: [String]) -> SpawnedProcess? {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("openmtd-tool-\(UUID().uuidString).txt").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // glibc 2.34+ has posix_spawn_file_actions_addclosefrom_np; Swift's Glibc module does not export it.
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") { _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3) }
        let argv = ([tool] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, tool, &actions, nil, argv, environ) == 0 else { return nil }
        return SpawnedProcess(pid: pid, outputPath: output)
    }

    /// Waits for the exit (on the calling thread) and returns what it printed.
    func finish() -> String {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        return (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    }

    var hasExited: Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == pid
    }

    func kill() {
        _ = Glibc.kill(pid, SIGKILL)
        _ = finish()
    }
}

/// dnsmasq on loopback as the resolver's upstream, serving a test zone; it logs each query it
/// receives, so tests can count what reached the upstream.
final class DnsmasqUpstream: Sendable {
    let port: Int
    let folder: URL
    private let process: SpawnedProcess

    private init(port: Int, folder: URL, process: SpawnedProcess) {
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
            guard let process = SpawnedProcess.start("/usr/sbin/dnsmasq", ["--conf-file=\(file.path)", "--pid-file=\(folder.path)/pid-\(attempt)", "--user=root"])
            else { throw DNSFixtureFailure(description: "dnsmasq could not be started") }
            let upstream = DnsmasqUpstream(port: port, folder: folder, process: process)
            // Listening once it answers; a taken port makes it exit at once.
            var exited = false
            let ready = try await Wait.until(within: 5) {
                if process.hasExited {
                    exited = true
                    return true
                }
                return await dig(["@127.0.0.1", "-p", "\(port)", "+time=1", "+tries=1", "probe.openmtd.test"]).contains("status:")
            }
            if ready != nil, !exited { return upstream }
            if !exited { upstream.stop() }
        }
        throw DNSFixtureFailure(description: "dnsmasq did not start on a free port")
    }

    /// How many queries for `name` reached the upstream.
    func queriesReceived(for name: String) -> Int {
        let log = (try? String(contentsOf: folder.appendingPathComponent("queries.log"), encoding: .utf8)) ?? ""
        return log.components(separatedBy: "\n").filter { $0.contains("query[") && $0.contains(" \(name) from") }.count
    }

    func stop() {
        process.kill()
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
        DispatchQueue.global().async {
            continuation.resume(returning: SpawnedProcess.start(tool, arguments)?.finish() ?? "could not run \(tool)")
        }
    }
}

func requireDNSClients() throws {
    for tool in ["/usr/bin/dig", "/usr/bin/kdig"] where !FileManager.default.isExecutableFile(atPath: tool) {
        try Prerequisite.missing("\(tool) (apt-get install bind9-dnsutils knot-dnsutils)")
    }
}

/// unbound on loopback serving DNS-over-TLS and DNS-over-HTTPS (HTTP/2) with a test certificate,
/// forwarding to a dnsmasq upstream: the real encrypted upstream for `tls://` and `https://`. It
/// logs each query it receives, and closes idle TLS connections after `idleMilliseconds`.
final class UnboundEncryptedUpstream: Sendable {
    let tlsPort: Int
    let httpsPort: Int
    let folder: URL
    private let process: SpawnedProcess

    private init(tlsPort: Int, httpsPort: Int, folder: URL, process: SpawnedProcess) {
        self.tlsPort = tlsPort
        self.httpsPort = httpsPort
        self.folder = folder
        self.process = process
    }

    static func start(forwardingTo origin: Int, certificate: String, key: String, idleMilliseconds: Int = 30_000) async throws -> UnboundEncryptedUpstream {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/unbound") else { try Prerequisite.missing("unbound (apt-get install unbound)") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("openmtd-unbound-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for attempt in 0..<10 {
            let tls = Int.random(in: 20_000...60_000), https = tls + 1
            let config = """
            server:
              interface: 127.0.0.1@\(tls)
              interface: 127.0.0.1@\(https)
              tls-port: \(tls)
              https-port: \(https)
              tls-service-key: "\(key)"
              tls-service-pem: "\(certificate)"
              http-endpoint: "/dns-query"
              tcp-idle-timeout: \(idleMilliseconds)
              do-not-query-localhost: no
              access-control: 127.0.0.0/8 allow
              username: ""
              chroot: ""
              directory: "\(folder.path)"
              pidfile: ""
              use-syslog: no
              logfile: "\(folder.path)/unbound-\(attempt).log"
              log-queries: yes
              verbosity: 1
              module-config: "iterator"
              do-ip6: no
              cache-max-ttl: 0
            forward-zone:
              name: "."
              forward-addr: 127.0.0.1@\(origin)
            """
            let file = folder.appendingPathComponent("unbound-\(attempt).conf")
            try config.write(to: file, atomically: true, encoding: .utf8)
            guard let process = SpawnedProcess.start("/usr/sbin/unbound", ["-d", "-c", file.path]) else {
                throw DNSFixtureFailure(description: "unbound could not be started")
            }
            let upstream = UnboundEncryptedUpstream(tlsPort: tls, httpsPort: https, folder: folder, process: process)
            var exited = false
            let ready = try await Wait.until(within: 5) {
                if process.hasExited {
                    exited = true
                    return true
                }
                return await runTool("/usr/bin/kdig", ["@127.0.0.1", "-p", "\(tls)", "+tls", "+time=1", "+retry=0", "probe.openmtd.test"]).contains("status:")
            }
            if ready != nil, !exited { return upstream }
            if !exited { upstream.stop() }
        }
        throw DNSFixtureFailure(description: "unbound did not start on free ports")
    }

    /// How many queries for `name` unbound received (from any transport).
    func queriesReceived(for name: String) -> Int {
        let logs = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.filter { $0.hasSuffix(".log") } ?? []
        return logs.reduce(0) { total, log in
            let text = (try? String(contentsOf: folder.appendingPathComponent(log), encoding: .utf8)) ?? ""
            return total + text.components(separatedBy: "\n").filter { $0.contains(" \(name). A IN") }.count
        }
    }

    func stop() {
        process.kill()
    }
}
