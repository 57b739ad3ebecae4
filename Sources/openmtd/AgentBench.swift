import Foundation
import MTDAgent
import MTDCore
import MTDSimulator

/// `openmtd bench agent`: what the agent sends and what it costs, measured on the real agent code
/// with a transport that answers like the server (no network): bytes of a typical device's
/// check-in with a full inventory, with a one-app delta, and with nothing new; and resident memory
/// per agent over 10,000 simulated devices.
enum AgentBench {
    /// Answers every call as the server would for a healthy device, and keeps the request sizes.
    final class ServerLike: AgentTransport, @unchecked Sendable {
        private let lock = NSLock()
        private(set) var sizes: [Int] = []

        func send(_ request: AgentHTTPRequest) async throws -> AgentHTTPResponse {
            let body: String
            if request.url.path.hasSuffix("activate") {
                body = #"{"deviceId":"00000000-0000-0000-0000-000000000001","credential":"c","checkInIntervalSeconds":900,"reactivated":false}"#
            } else {
                lock.withLock { sizes.append(request.body?.count ?? 0) }
                body = #"{"nextCheckInSeconds":900,"policyVersion":1,"securityStatus":"SECURE","fullInventoryRequired":false,"actions":[]}"#
            }
            return AgentHTTPResponse(status: 200, headers: [:], body: Data(body.utf8))
        }
    }

    struct Figures: Codable {
        var fullInventoryBytes: Int
        var oneAppDeltaBytes: Int
        var nothingNewBytes: Int
        var withFiveNetworkEventsBytes: Int
        var appsOnTypicalDevice: Int
        var agents: Int
        var residentBytesPerAgent: Int
    }

    static func run(json: Bool) async throws {
        guard let nowhere = URL(string: "http://127.0.0.1:1") else { return }
        let today = Timestamp.day(of: Date())
        let data = try FleetData.load(asOfDay: today)
        var mix = FleetMix()
        mix.stalkerwareShare = 0
        // A typical device: an Android phone from the simulator's fleet with its usual apps.
        let profile = (0..<100).lazy.map { DeviceProfile.make(index: $0, prefix: "bench", data: data, mix: mix, seed: 7, today: today) }
            .first { $0.platform == .android && $0.mode == .embedded } ?? DeviceProfile.make(index: 0, prefix: "bench", data: data, mix: mix, seed: 7, today: today)
        let transport = ServerLike()
        let source = TemplateDeviceSource(profile.template)
        let configuration = AgentConfiguration(enrollmentCode: "BENCH", serverURL: nowhere, udid: profile.udid, mode: profile.mode)
        let agent = try Agent(configuration: configuration, options: Agent.Options(platform: profile.platform), source: source,
                              credentials: MemoryCredentialStore(), outbox: MemoryOutbox(), state: MemoryAgentStateStore(), transport: transport)
        try await agent.checkIn()
        source.update { $0.apps?.installed?.append(InstalledApp(id: "com.example.newapp", version: "1.0", source: .playStore)) }
        try await agent.checkIn()
        try await agent.checkIn()
        try await agent.record(FleetData.benignHosts.prefix(5).map { .activity(NetworkActivity(app: "com.whatsapp", host: $0, count: 3)) })
        try await agent.checkIn()
        let sizes = transport.sizes

        // Memory: 10,000 agents as the simulator holds them.
        let count = 10_000
        let before = ResidentMemory.bytes()
        var agents: [Agent] = []
        agents.reserveCapacity(count)
        let shared = ServerLike()
        for index in 0..<count {
            let device = DeviceProfile.make(index: index, prefix: "mem", data: data, mix: FleetMix(), seed: 9, today: today)
            agents.append(try Agent(
                configuration: AgentConfiguration(enrollmentCode: "BENCH", serverURL: nowhere, udid: device.udid, mode: device.mode),
                options: Agent.Options(platform: device.platform), source: TemplateDeviceSource(device.template), credentials: MemoryCredentialStore(),
                outbox: MemoryOutbox(capacity: 500), state: MemoryAgentStateStore(), transport: shared))
        }
        // Each agent activated and checked in once, so its inventory state is held as in a running fleet.
        for agent in agents { try await agent.checkIn() }
        let perAgent = (ResidentMemory.bytes() - before) / count
        let figures = Figures(fullInventoryBytes: sizes[0], oneAppDeltaBytes: sizes[1], nothingNewBytes: sizes[2], withFiveNetworkEventsBytes: sizes[3],
                              appsOnTypicalDevice: profile.template.apps?.installed?.count ?? 0, agents: agents.count, residentBytesPerAgent: perAgent)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            Terminal.out(String(decoding: try encoder.encode(figures), as: UTF8.self))
        } else {
            Terminal.out("""
            typical device (Android, \(figures.appsOnTypicalDevice) apps): check-in with full inventory \(figures.fullInventoryBytes) bytes, \
            one-app delta \(figures.oneAppDeltaBytes) bytes, nothing new \(figures.nothingNewBytes) bytes, with 5 network events \(figures.withFiveNetworkEventsBytes) bytes
            memory: \(figures.residentBytesPerAgent) bytes resident per agent over \(figures.agents) agents
            """)
        }
    }
}
