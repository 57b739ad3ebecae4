import ArgumentParser
import AsyncHTTPClient
import Foundation
import MTDCore
import MTDSimulator

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a fleet of simulated devices (the real agent code, in process) against an OpenMTD server and its UEM.",
        discussion: """
        The devices are built from the shipped public data (OS releases, stalkerware samples, phishing hosts), \
        enrolled in the UEM, configured from the Hub custom settings or managed app config the UEM resolves for \
        each of them, activated, and then check in at --rate per second (or once per device every --interval). \
        Example: openmtd simulate --devices 1000 --uem-tenant-code CODE --duration 2m --scenario examples/scenario.yaml
        Passwords: OPENMTD_ADMIN_PASSWORD (reads the enrollment code) and OPENMTD_UEM_PASSWORD (enrolls devices).
        """
    )

    @Option(name: .customLong("server"), help: "The OpenMTD server.") var server = "http://127.0.0.1:8080"
    @Option(name: .customLong("devices"), help: "Number of devices.") var devices = 100
    @Option(name: .customLong("prefix"), help: "Name prefix of the devices (UDIDs, users).") var prefix = "sim"
    @Option(name: .customLong("seed"), help: "Seed: the same seed builds the same fleet.") var seed: UInt64 = 1
    @Option(name: .customLong("concurrency"), help: "Check-ins in flight at once.") var concurrency = 64
    @Option(name: .customLong("rate"), help: "Check-ins per second across the fleet (default: devices / interval).") var rate: Double?
    @Option(name: .customLong("interval"), help: "Seconds between a device's check-ins when no --rate is given.") var interval: Double = 60
    @Option(name: .customLong("duration"), help: "How long to run after activation: 90s, 5m, 1h.") var duration = "1m"
    @Option(name: .customLong("scenario"), help: "Events over time (YAML or JSON).") var scenario: String?
    @Option(name: .customLong("stalkerware"), help: "Share of devices with stalkerware from real samples.") var stalkerware = 0.02
    @Option(name: .customLong("phishing"), help: "Share of devices that visit a phishing site.") var phishing = 0.05
    @Option(name: .customLong("jailbroken"), help: "Share of jailbroken or rooted devices.") var jailbroken = 0.01
    @Option(name: .customLong("outdated"), help: "Share of devices on old OS versions or patch levels.") var outdated = 0.1
    @Option(name: .customLong("android"), help: "Share of Android devices (the rest are iPhones).") var android = 0.6
    @Option(name: .customLong("standalone"), help: "Share of devices running the standalone app (the rest: embedded in Hub).") var standalone = 0.3
    @Option(name: .customLong("enrollment-code"), help: "Enrollment code (read through the admin API when omitted).") var enrollmentCode: String?
    @Option(name: .customLong("admin-email"), help: "Admin for the enrollment code and UEM sync.") var adminEmail = "admin@openmtd.local"
    @Option(name: .customLong("uem-url"), help: "The UEM REST base URL (default: the server's built-in UEM).") var uemURL: String?
    @Option(name: .customLong("uem-tenant-code"), help: "The UEM's aw-tenant-code; without it devices are not enrolled in a UEM.") var uemTenantCode: String?
    @Option(name: .customLong("uem-username"), help: "UEM admin with Devices, Groups and Profiles Edit.") var uemUsername = "uemadmin"
    @Flag(name: .customLong("json"), help: "Print the summary as JSON.") var json = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let serverURL = URL(string: server), serverURL.scheme?.hasPrefix("http") == true, serverURL.host != nil else {
            throw Terminal.badInput("--server \(server) is not an http(s) address")
        }
        guard devices >= 1, devices <= 1_000_000 else { throw Terminal.badInput("--devices must be between 1 and 1000000") }
        guard concurrency >= 1 else { throw Terminal.badInput("--concurrency must be at least 1") }
        guard let seconds = Scenario.duration(duration) else { throw Terminal.badInput("--duration \(duration) is not a duration; use 90s, 5m or 1h") }
        for (flag, value) in [("--stalkerware", stalkerware), ("--phishing", phishing), ("--jailbroken", jailbroken), ("--outdated", outdated),
                              ("--android", android), ("--standalone", standalone)] where !(0...1).contains(value) {
            throw Terminal.badInput("\(flag) \(value) is not a share between 0 and 1")
        }
        if let rate, rate <= 0 { throw Terminal.badInput("--rate must be positive") }
        var options = FleetOptions()
        options.devices = devices
        options.prefix = prefix
        options.seed = seed
        options.concurrency = concurrency
        options.checkInsPerSecond = rate
        options.interval = interval
        options.duration = seconds
        options.mix.stalkerwareShare = stalkerware
        options.mix.phishingShare = phishing
        options.mix.jailbreakShare = jailbroken
        options.mix.outdatedShare = outdated
        options.mix.androidShare = android
        options.mix.standaloneShare = standalone
        if let scenario {
            do { options.scenario = try Scenario.load(URL(fileURLWithPath: scenario)) } catch { throw Terminal.badInput("\(error)") }
        }
        var access = FleetAccess(server: serverURL, enrollmentCode: enrollmentCode)
        if let password = environment["OPENMTD_ADMIN_PASSWORD"], !password.isEmpty { access.admin = .init(email: adminEmail, password: password) }
        if let tenant = uemTenantCode {
            guard let password = environment["OPENMTD_UEM_PASSWORD"], !password.isEmpty else {
                throw Terminal.badInput("--uem-tenant-code needs the UEM admin's password in OPENMTD_UEM_PASSWORD")
            }
            access.uem = .init(baseURL: uemURL ?? serverURL.appendingPathComponent("API").absoluteString, tenantCode: tenant, username: uemUsername, password: password)
        }
        if access.enrollmentCode == nil, access.admin == nil {
            throw Terminal.badInput("no enrollment code: pass --enrollment-code, or set OPENMTD_ADMIN_PASSWORD so the simulator can read it")
        }
        let data: FleetData
        do { data = try FleetData.load(asOfDay: options.today) } catch { throw Terminal.failure("\(error)") }
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)))
        let summary: FleetSummary
        let memoryBefore = ResidentMemory.bytes()
        let fleet = Fleet(options: options, access: access, data: data, http: http)
        do {
            try await fleet.prepare { Terminal.progress($0) }
            let agentMemory = ResidentMemory.bytes() - memoryBefore
            Terminal.progress("agents take \(agentMemory / max(devices, 1)) bytes each (resident memory growth over \(devices) devices)")
            let live = LiveLine()
            summary = try await fleet.run { progress in
                live.show(String(format: "[%5.0fs] %d devices · %d check-ins · %.0f/s · %d errors%@", progress.elapsed, progress.devices, progress.checkIns,
                                 progress.ratePerSecond, progress.failures, progress.lastError.map { " · last: \($0.prefix(80))" } ?? ""))
            }
            live.finish()
        } catch {
            try? await http.shutdown()
            throw Terminal.failure("simulation failed: \(error)")
        }
        try? await http.shutdown()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            Terminal.out(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            Terminal.out("""
            devices \(summary.devices), activated \(summary.activated)
            check-ins \(summary.checkIns) in \(String(format: "%.1f", summary.seconds)) s, failures \(summary.failures); after activation \(summary.steadyCheckIns) in \(String(format: "%.1f", summary.steadySeconds)) s (\(String(format: "%.0f", summary.steadyCheckInsPerSecond))/s)
            bytes per check-in: full inventory \(summary.meanFullCheckInBytes), later \(summary.meanDeltaCheckInBytes)
            security status: \(summary.securityStatus.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            scenario events applied: \(summary.scenarioEvents)
            """)
        }
        if summary.failures > 0, let last = await fleet.lastError() { Terminal.error("last failure: \(last)") }
    }
}

/// Resident memory of this process (Linux /proc; 0 elsewhere).
enum ResidentMemory {
    static func bytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes * 1024
    }
}

/// One progress line, rewritten in place on a terminal and printed every few seconds otherwise.
final class LiveLine: @unchecked Sendable {
    private let lock = NSLock()
    private let interactive = isatty(STDERR_FILENO) == 1
    private var printed = 0

    func show(_ text: String) {
        lock.withLock {
            printed += 1
            if interactive {
                FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
            } else if printed % 5 == 1 {
                FileHandle.standardError.write(Data((text + "\n").utf8))
            }
        }
    }

    func finish() {
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
