import AsyncHTTPClient
import Foundation
import MTDAgent
import MTDCore

public struct FleetOptions: Sendable {
    public var devices = 100
    public var prefix = "sim"
    public var mix = FleetMix()
    public var seed: UInt64 = 1
    /// Check-ins in flight at once.
    public var concurrency = 64
    /// Fleet-wide check-ins per second; nil spreads one check-in per device per `interval`.
    public var checkInsPerSecond: Double?
    public var interval: Double = 60
    /// Seconds to run after activation; nil runs until cancelled.
    public var duration: Double?
    public var scenario: Scenario?
    /// The simulation day (days since 1970), for OS releases and patch levels.
    public var today = Timestamp.day(of: Date())

    public init() {}
}

public struct FleetProgress: Sendable {
    public var elapsed: Double
    public var phase: String
    public var devices: Int
    public var activated: Int
    public var checkIns: Int
    public var failures: Int
    public var ratePerSecond: Double
    public var lastError: String?
}

public struct FleetSummary: Sendable, Codable {
    public var devices: Int
    public var activated: Int
    public var checkIns: Int
    public var failures: Int
    public var seconds: Double
    public var checkInsPerSecond: Double
    /// After activation: the check-ins at the fleet's rate, and the rate the server actually took.
    public var steadyCheckIns: Int
    public var steadySeconds: Double
    public var steadyCheckInsPerSecond: Double
    public var meanFullCheckInBytes: Int
    public var meanDeltaCheckInBytes: Int
    public var securityStatus: [String: Int]
    public var scenarioEvents: Int
}

/// Counters shared by the workers.
actor FleetCounters {
    var checkIns = 0
    var failures = 0
    var lastError: String?
    var fullBytes: [Int] = []
    var deltaBytes: [Int] = []

    func success(bytes: Int, first: Bool) {
        checkIns += 1
        if first { fullBytes.append(bytes) } else if deltaBytes.count < 100_000 { deltaBytes.append(bytes) }
    }

    func failure(_ error: any Error) {
        failures += 1
        lastError = "\(error)"
    }
}

/// Which device checks in next: devices a scenario just changed first, then round robin at the
/// fleet's rate.
actor CheckInQueue {
    let count: Int
    let rate: Double
    /// At most this many round-robin turns (nil: no limit).
    let limit: Int?
    let start = Date()
    private var issued = 0
    private var urgent: [Int] = []

    init(count: Int, rate: Double, limit: Int? = nil) {
        self.count = count
        self.rate = rate
        self.limit = limit
    }

    func push(_ devices: [Int]) { urgent += devices }

    func next(until deadline: Date?) async -> Int? {
        if !urgent.isEmpty { return urgent.removeFirst() }
        if let limit, issued >= limit { return nil }
        let slot = start.addingTimeInterval(Double(issued) / rate)
        issued += 1
        // Stop at the deadline even when the server fell behind the schedule.
        if let deadline, slot > deadline || Date() > deadline { return nil }
        let wait = slot.timeIntervalSinceNow
        if wait > 0 { try? await Task.sleep(nanoseconds: SleepInterval.nanoseconds(wait)) }
        if Task.isCancelled { return nil }
        if !urgent.isEmpty { return urgent.removeFirst() }
        return (issued - 1) % count
    }
}

/// A fleet of in-process agents (the real `MTDAgent` code) against a real server: enrolled in the
/// UEM, configured from the Hub custom settings or managed app config the UEM resolves for each
/// device, activated, and checking in with realistic data.
public final class Fleet: @unchecked Sendable {
    public let options: FleetOptions
    public let access: FleetAccess
    let data: FleetData
    let http: HTTPClient
    private(set) var profiles: [DeviceProfile] = []
    private(set) var sources: [TemplateDeviceSource] = []
    private(set) var agents: [Agent] = []
    private let counters = FleetCounters()

    public init(options: FleetOptions, access: FleetAccess, data: FleetData, http: HTTPClient) {
        self.options = options
        self.access = access
        self.data = data
        self.http = http
    }

    public var agentCount: Int { agents.count }

    /// Builds the devices, enrolls them in the UEM and configures their agents.
    public func prepare(progress: @escaping @Sendable (String) -> Void) async throws {
        guard options.devices > 0 else { throw FleetError.setup("the fleet needs at least one device") }
        let setup = SetupClient(http: http)
        let code = try await enrollmentCode(setup)
        profiles = (0..<options.devices).map { DeviceProfile.make(index: $0, prefix: options.prefix, data: data, mix: options.mix, seed: options.seed, today: options.today) }
        var configurations: [AgentConfiguration] = []
        if let uem = access.uem {
            try await publishAgentConfiguration(setup, uem: uem, code: code)
            let ids = try await enroll(setup, uem: uem, progress: progress)
            configurations = try await resolveConfigurations(setup, uem: uem, ids: ids, progress: progress)
            if let admin = access.admin {
                // Bring the new devices into the MTD now rather than at the next periodic device sync.
                let token = try await login(setup, admin)
                _ = try? await setup.call(.POST, access.server.appendingPathComponent("api/v1/integrations/uem/sync").absoluteString,
                                          headers: [("Authorization", "Bearer \(token)")])
            }
        } else {
            configurations = profiles.map {
                AgentConfiguration(enrollmentCode: code, serverURL: access.server, udid: $0.udid, email: $0.email, mdm: "AirWatch", mode: $0.mode)
            }
        }
        let transport = HTTPClientTransport(client: http)
        sources = profiles.map { TemplateDeviceSource($0.template) }
        agents = try zip(profiles, configurations).enumerated().map { index, pair in
            var agentOptions = Agent.Options(platform: pair.0.platform)
            agentOptions.coalesceSeconds = 1
            return try Agent(configuration: pair.1, options: agentOptions, source: sources[index], credentials: MemoryCredentialStore(),
                             outbox: MemoryOutbox(capacity: 500), state: MemoryAgentStateStore(), transport: transport)
        }
        progress("\(agents.count) agents configured")
    }

    /// Activates every agent with its first (complete) check-in, then checks in at the fleet's rate,
    /// applying the scenario's events, until the duration is over or the task is cancelled.
    public func run(progress: @escaping @Sendable (FleetProgress) -> Void) async throws -> FleetSummary {
        let started = Date()
        let workers = max(1, min(options.concurrency, agents.count))
        // Activation: every device once, as fast as the server takes it.
        let activation = CheckInQueue(count: agents.count, rate: 1e9, limit: agents.count)
        let reporter = Task { [counters] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: 1_000_000_000)
                let done = await counters.checkIns, failed = await counters.failures
                progress(FleetProgress(elapsed: Date().timeIntervalSince(started), phase: "running", devices: self.agents.count,
                                       activated: min(done, self.agents.count), checkIns: done, failures: failed,
                                       ratePerSecond: Double(done) / max(Date().timeIntervalSince(started), 0.001), lastError: await counters.lastError))
            }
        }
        defer { reporter.cancel() }
        await work(queue: activation, workers: workers, until: nil, first: true)
        // Benign browsing and the phishing visits some devices make, as events.
        for (index, profile) in profiles.enumerated() {
            var events: [AgentEvent] = profile.visits.map { .activity(NetworkActivity(app: profile.template.apps?.installed?.first?.id, host: $0)) }
            if let phishing = profile.phishingHost { events.append(.content(ContentVisit(host: phishing, url: "https://\(phishing)/login"))) }
            try await agents[index].record(events)
        }
        let rate = options.checkInsPerSecond ?? Double(agents.count) / max(options.interval, 0.001)
        let queue = CheckInQueue(count: agents.count, rate: rate)
        let steadyStart = Date()
        let activationCheckIns = await counters.checkIns
        let deadline = options.duration.map { steadyStart.addingTimeInterval($0) }
        let scenarioTask = Task { await self.play(queue: queue, from: steadyStart) }
        defer { scenarioTask.cancel() }
        await work(queue: queue, workers: workers, until: deadline, first: false)
        let steadySeconds = Date().timeIntervalSince(steadyStart)
        let steady = await counters.checkIns - activationCheckIns
        var result = await summary(seconds: Date().timeIntervalSince(started), scenarioEvents: await scenarioTask.value)
        result.steadyCheckIns = steady
        result.steadySeconds = steadySeconds
        result.steadyCheckInsPerSecond = Double(steady) / max(steadySeconds, 0.001)
        return result
    }

    private func work(queue: CheckInQueue, workers: Int, until deadline: Date?, first: Bool) async {
        let agents = agents
        let counters = counters
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    while !Task.isCancelled, let index = await queue.next(until: deadline) {
                        do {
                            try await agents[index].checkIn()
                            await counters.success(bytes: await agents[index].status().lastCheckInBytes, first: first)
                        } catch {
                            await counters.failure(error)
                        }
                    }
                }
            }
        }
    }

    /// Applies the scenario's events at their times; returns how many were applied.
    private func play(queue: CheckInQueue, from start: Date) async -> Int {
        guard let scenario = options.scenario else { return 0 }
        var random = SeededRandom(seed: options.seed &+ 77)
        var stalkerwareDevices: [Int] = []
        var jailbrokenDevices: [Int] = []
        var applied = 0
        for event in scenario.events {
            let wait = start.addingTimeInterval(event.at).timeIntervalSinceNow
            if wait > 0 { try? await Task.sleep(nanoseconds: SleepInterval.nanoseconds(wait)) }
            if Task.isCancelled { break }
            let count = Int((Double(agents.count) * (event.share ?? 0)).rounded())
            let chosen = Array((0..<agents.count).shuffled(using: &random).prefix(max(count, event.share == nil ? 0 : 1)))
            var changed: [Int] = []
            switch event.action {
            case .installStalkerware:
                for index in chosen {
                    guard let sample = data.stalkerwareSamples.randomElement(using: &random) else { continue }
                    sources[index].update { $0.apps?.installed?.append(sample.app) }
                    stalkerwareDevices.append(index)
                    changed.append(index)
                }
            case .removeStalkerware:
                let targets = event.share == nil ? stalkerwareDevices : Array(stalkerwareDevices.prefix(count))
                let packages = Set(data.stalkerwarePackages)
                for index in targets {
                    sources[index].update { $0.apps?.installed?.removeAll { packages.contains($0.id) } }
                    changed.append(index)
                }
                stalkerwareDevices.removeAll { targets.contains($0) }
            case .visitPhishing:
                for index in chosen {
                    guard let host = data.phishingHosts.randomElement(using: &random) else { continue }
                    let event: AgentEvent = profiles[index].mode == .standalone ? .content(ContentVisit(host: host, url: "https://\(host)/"))
                        : .activity(NetworkActivity(app: "com.android.chrome", host: host))
                    try? await agents[index].record([event])
                    changed.append(index)
                }
            case .jailbreak:
                for index in chosen {
                    sources[index].update { $0.posture?.compromiseIndicators = [$0.device.platform == .android ? "SU_BINARY" : "CYDIA_INSTALLED"] }
                    jailbrokenDevices.append(index)
                    changed.append(index)
                }
            case .clearJailbreak:
                let targets = event.share == nil ? jailbrokenDevices : Array(jailbrokenDevices.prefix(count))
                for index in targets {
                    sources[index].update { $0.posture?.compromiseIndicators = nil }
                    changed.append(index)
                }
                jailbrokenDevices.removeAll { targets.contains($0) }
            }
            await queue.push(changed)
            applied += 1
        }
        return applied
    }

    private func summary(seconds: Double, scenarioEvents: Int) async -> FleetSummary {
        var statuses: [String: Int] = [:]
        var activated = 0
        for agent in agents {
            let status = await agent.status()
            if status.activated { activated += 1 }
            statuses[status.securityStatus?.rawValue ?? "UNKNOWN", default: 0] += 1
        }
        let full = await counters.fullBytes, delta = await counters.deltaBytes
        let checkIns = await counters.checkIns
        return FleetSummary(devices: agents.count, activated: activated, checkIns: checkIns, failures: await counters.failures, seconds: seconds,
                            checkInsPerSecond: Double(checkIns) / max(seconds, 0.001), steadyCheckIns: 0, steadySeconds: 0, steadyCheckInsPerSecond: 0,
                            meanFullCheckInBytes: full.isEmpty ? 0 : full.reduce(0, +) / full.count,
                            meanDeltaCheckInBytes: delta.isEmpty ? 0 : delta.reduce(0, +) / delta.count,
                            securityStatus: statuses, scenarioEvents: scenarioEvents)
    }

    public func lastError() async -> String? { await counters.lastError }

    // MARK: Setup

    private func login(_ setup: SetupClient, _ admin: FleetAccess.Admin) async throws -> String {
        let reply = try await setup.call(.POST, access.server.appendingPathComponent("api/v1/auth/login").absoluteString,
                                         json: ["email": admin.email, "password": admin.password])
        guard let token = (reply.body as? [String: Any])?["token"] as? String else { throw FleetError.setup("login answered without a token") }
        return token
    }

    private func enrollmentCode(_ setup: SetupClient) async throws -> String {
        if let code = access.enrollmentCode { return code }
        guard let admin = access.admin else {
            throw FleetError.setup("no enrollment code: give --enrollment-code, or the admin's e-mail and password so the simulator can read it")
        }
        let token = try await login(setup, admin)
        let reply = try await setup.call(.GET, access.server.appendingPathComponent("api/v1/enrollment-codes").absoluteString,
                                         headers: [("Authorization", "Bearer \(token)")])
        guard let code = (reply.body as? [[String: Any]])?.first(where: { $0["usable"] as? Bool == true })?["code"] as? String else {
            throw FleetError.setup("the server has no usable enrollment code; create one (POST /api/v1/enrollment-codes)")
        }
        return code
    }

    static let hubSettingsName = "OpenMTD agent (Hub custom settings)"
    static let appConfigName = "OpenMTD agent (managed app config)"
    static let agentApplication = "org.openmtd.agent"

    /// The smart group of simulated devices and the agent configuration assigned to it, created
    /// once: Hub custom settings for embedded agents, managed app config for the standalone app.
    private func publishAgentConfiguration(_ setup: SetupClient, uem: FleetAccess.UEM, code: String) async throws {
        let groups = try await setup.uem(.GET, "/mdm/smartgroups/search?name=OpenMTD%20simulated%20fleet", uem) as? [String: Any]
        var groupID = ((groups?["SmartGroups"] as? [[String: Any]])?.first { $0["Name"] as? String == "OpenMTD simulated fleet" })?["SmartGroupID"] as? Int
        if groupID == nil {
            let created = try await setup.uem(.POST, "/mdm/smartgroups", uem, json: ["Name": "OpenMTD simulated fleet", "Platforms": ["Apple", "Android"]]) as? [String: Any]
            groupID = created?["SmartGroupID"] as? Int
        }
        guard let groupID else { throw FleetError.setup("the UEM did not create the smart group") }
        let existing = (try await setup.uem(.GET, "/mdm/appconfigurations?pagesize=1000", uem) as? [String: Any])?["AppConfigurations"] as? [[String: Any]] ?? []
        let names = Set(existing.compactMap { $0["Name"] as? String })
        let server = access.server.absoluteString
        if !names.contains(Self.hubSettingsName) {
            _ = try await setup.uem(.POST, "/mdm/appconfigurations", uem, json: [
                "Name": Self.hubSettingsName, "Kind": "HubCustomSettings", "AssignedSmartGroups": [groupID],
                "Settings": ["mtdSettings": ["isEnabled": true, "enrollmentCode": code, "serverURL": server, "externalId": "{DeviceUuid}", "email": "{EmailAddress}"]],
            ])
        }
        if !names.contains(Self.appConfigName) {
            _ = try await setup.uem(.POST, "/mdm/appconfigurations", uem, json: [
                "Name": Self.appConfigName, "Kind": "ManagedAppConfig", "Application": Self.agentApplication, "AssignedSmartGroups": [groupID],
                "Settings": ["DEVICE_UDID": "{DeviceUid}", "DEVICE_UUID": "{DeviceUuid}", "EMAIL": "{EmailAddress}", "MDM": "AirWatch",
                             "GLOBAL_ENROLLMENT_CODE": code, "SERVER_URL": server],
            ])
        }
    }

    private func enroll(_ setup: SetupClient, uem: FleetAccess.UEM, progress: @escaping @Sendable (String) -> Void) async throws -> [Int] {
        let profiles = profiles
        var ids = Array(repeating: 0, count: profiles.count)
        try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            var next = 0
            func start() {
                guard next < profiles.count else { return }
                let profile = profiles[next]
                next += 1
                group.addTask {
                    var body: [String: Any] = ["Udid": profile.udid, "Platform": profile.platform == .ios ? "Apple" : "Android", "UserName": profile.userName,
                                               "UserEmailAddress": profile.email, "SerialNumber": profile.serialNumber,
                                               "OperatingSystem": profile.template.device.osVersion, "Ownership": "C"]
                    body["Model"] = profile.template.device.model
                    let reply = try await setup.uem(.POST, "/mdm/devices/enroll", uem, json: body) as? [String: Any]
                    guard let id = (reply?["Id"] as? [String: Any])?["Value"] as? Int else { throw FleetError.setup("enrolling \(profile.udid): no device id in the answer") }
                    return (profile.index, id)
                }
            }
            for _ in 0..<min(16, profiles.count) { start() }
            var done = 0
            while let (index, id) = try await group.next() {
                ids[index] = id
                done += 1
                if done % 500 == 0 || done == profiles.count { progress("enrolled \(done)/\(profiles.count) devices in the UEM") }
                start()
            }
        }
        return ids
    }

    /// What the UEM hands each device's agent, parsed by the SDK exactly as a device would.
    private func resolveConfigurations(_ setup: SetupClient, uem: FleetAccess.UEM, ids: [Int], progress: @escaping @Sendable (String) -> Void) async throws -> [AgentConfiguration] {
        let profiles = profiles
        let server = access.server
        var result = [AgentConfiguration?](repeating: nil, count: ids.count)
        try await withThrowingTaskGroup(of: (Int, AgentConfiguration).self) { group in
            var next = 0
            func start() {
                guard next < ids.count else { return }
                let index = next
                next += 1
                group.addTask {
                    let profile = profiles[index]
                    let answer = try await setup.uem(.GET, "/mdm/devices/\(ids[index])/appconfigurations", uem) as? [String: Any] ?? [:]
                    if profile.mode == .embedded {
                        guard let hub = answer["HubCustomSettings"] as? [String: Any] else { throw FleetError.setup("device \(profile.udid) received no Hub custom settings") }
                        let data = try JSONSerialization.data(withJSONObject: hub)
                        return (index, try AgentConfiguration.hubCustomSettings(data, defaultServer: server, udid: profile.udid))
                    }
                    let configs = answer["ManagedAppConfigs"] as? [[String: Any]] ?? []
                    guard let values = configs.first(where: { $0["Application"] as? String == Self.agentApplication })?["Values"] as? [String: Any] else {
                        throw FleetError.setup("device \(profile.udid) received no managed app config for \(Self.agentApplication)")
                    }
                    return (index, try AgentConfiguration.managedAppConfig(values, defaultServer: server))
                }
            }
            for _ in 0..<min(16, ids.count) { start() }
            var done = 0
            while let (index, configuration) = try await group.next() {
                result[index] = configuration
                done += 1
                if done % 500 == 0 || done == ids.count { progress("configured \(done)/\(ids.count) agents from the UEM") }
                start()
            }
        }
        return result.compactMap { $0 }
    }
}
