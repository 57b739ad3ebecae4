import FluentKit
import Foundation
import MTDAgent
import MTDCore
@testable import MTDServer
import MTDStore
import Testing

/// The agent SDK against a real server: activation from Hub settings, reactivation after the
/// server revokes the credential, the durable outbox across a restart and an outage, backoff that
/// honours Retry-After, and the full inventory the server asks for.
@Suite(.serialized) struct AgentSDKTests {
    static let spywareHost = "cdn.weather4free.com"

    struct Folder {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("openmtd-agent-\(UUID().uuidString)")
        var credentials: FileCredentialStore { FileCredentialStore(url: url.appendingPathComponent("credential.json")) }
        var state: FileAgentStateStore { FileAgentStateStore(url: url.appendingPathComponent("state.json")) }
        func outbox() throws -> FileOutbox { try FileOutbox(directory: url.appendingPathComponent("outbox")) }
    }

    static func template() -> CheckIn {
        CheckIn(agent: AgentInfo(mode: .embedded), device: DeviceInfo(platform: .android, osVersion: "16", securityPatchLevel: "2026-11-01", model: "Pixel 9"),
                posture: Posture(passcodeSet: true, storageEncrypted: true),
                apps: AppInventory(inventoryVersion: 0, complete: true, installed: [InstalledApp(id: "com.whatsapp", source: .playStore)]))
    }

    func agent(_ server: TestServer, folder: Folder, source: TemplateDeviceSource, transport: any AgentTransport = URLSessionTransport(),
               sleeper: @escaping @Sendable (Double) async throws -> Void = { try await Task.sleep(nanoseconds: UInt64($0 * 1e9)) },
               coalesce: Double = 0.2) throws -> Agent {
        let settings = #"{"mtdSettings":{"isEnabled":true,"enrollmentCode":"\#(server.enrollmentCode)"}}"#
        let configuration = try AgentConfiguration.hubCustomSettings(Data(settings.utf8), defaultServer: URL(string: server.baseURL), udid: "sdk-udid-1")
        var options = Agent.Options(platform: .android)
        options.coalesceSeconds = coalesce
        return try Agent(configuration: configuration, options: options, source: source, credentials: folder.credentials, outbox: try folder.outbox(),
                         state: folder.state, transport: transport, sleeper: sleeper, random: { 0.5 })
    }

    func openThreats(_ server: TestServer) async throws -> Int {
        try await ThreatModel.query(on: server.app.db).filter(\.$status == .open).count()
    }

    @Test(arguments: TestDatabase.available) func activatesAndReactivatesWhenTheServerRevokesTheCredential(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            let folder = Folder()
            let source = TemplateDeviceSource(Self.template())
            let agent = try agent(server, folder: folder, source: source)
            let answer = try await agent.checkIn()
            #expect(answer.securityStatus == .secure)
            let first = try #require(try folder.credentials.load())
            var status = await agent.status()
            #expect(status.activations == 1)
            #expect(status.checkIns == 1)

            // The admin deactivates the device: the credential stops working and the agent activates again.
            let token = try await server.login()
            let reply = try await server.send(.POST, "/api/v1/devices/\(first.deviceID)/deactivate", token: token, json: [String: String]())
            #expect(reply.status == 204 || reply.status == 200, "\(reply.text)")
            #expect(try await agent.checkIn().securityStatus == .secure)
            status = await agent.status()
            #expect(status.activations == 2)
            let second = try #require(try folder.credentials.load())
            #expect(second.credential != first.credential)
            #expect(second.deviceID == first.deviceID, "reactivation binds to the same device by UDID")
        }
    }

    @Test(arguments: TestDatabase.available) func eventsSurviveARestartAndAnOutageWithoutDuplicateThreats(_ database: TestDatabase) async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("openmtd-sdk-\(UUID().uuidString)").path
        let folder = Folder()
        var port = 0
        try await withServer(database, dataDirectory: data) { server in
            port = try #require(server.app.http.server.shared.localAddress?.port)
            let source = TemplateDeviceSource(Self.template())
            let agent = try agent(server, folder: folder, source: source)
            try await agent.checkIn()
            // The server goes away (stopped below); the device keeps observing.
        }
        do {
            // While it is down: events are kept, check-ins fail.
            let source = TemplateDeviceSource(Self.template())
            let down = try Agent(
                configuration: try AgentConfiguration.hubCustomSettings(Data(#"{"mtdSettings":{"isEnabled":true,"enrollmentCode":"unused"}}"#.utf8),
                                                                        defaultServer: URL(string: "http://127.0.0.1:\(port)"), udid: "sdk-udid-1"),
                options: Agent.Options(platform: .android), source: source, credentials: folder.credentials, outbox: try folder.outbox(), state: folder.state,
                transport: URLSessionTransport(timeout: 2))
            try await down.record([.activity(NetworkActivity(app: "com.weather.free", host: Self.spywareHost, count: 2))])
            await #expect(throws: AgentError.self) { try await down.checkIn() }
            #expect(await down.status().pendingEvents == 1)
        }
        // The process restarts and the server comes back on the same address with the same data.
        try await withServer(database, dataDirectory: data, keepData: true, adjust: { $0.port = port }) { server in
            let source = TemplateDeviceSource(Self.template())
            let agent = try agent(server, folder: folder, source: source)
            #expect(await agent.status().pendingEvents == 1, "the outbox came back from disk")
            #expect(await agent.status().activated, "the credential came back from disk")
            let answer = try await agent.checkIn()
            #expect(answer.securityStatus != .secure)
            #expect(await agent.status().pendingEvents == 0)
            #expect(await agent.status().activations == 0, "no reactivation was needed")
            #expect(try await openThreats(server) == 1)
            // The same observation again (at-least-once delivery): still one threat.
            try await agent.record([.activity(NetworkActivity(app: "com.weather.free", host: Self.spywareHost, count: 1))])
            try await agent.checkIn()
            #expect(try await openThreats(server) == 1)
        }
    }

    /// A server that answers 503 with Retry-After twice, then lets requests through.
    final class BusyFirst: AgentTransport, @unchecked Sendable {
        let inner = URLSessionTransport()
        let lock = NSLock()
        var refusals = 2

        func send(_ request: AgentHTTPRequest) async throws -> AgentHTTPResponse {
            let refuse = lock.withLock { () -> Bool in
                guard refusals > 0, request.url.path.hasSuffix("checkin") else { return false }
                refusals -= 1
                return true
            }
            if refuse { return AgentHTTPResponse(status: 503, headers: ["Retry-After": "7"], body: Data(#"{"error":{"code":"busy","message":"busy"}}"#.utf8)) }
            return try await inner.send(request)
        }
    }

    actor Sleeps {
        var seconds: [Double] = []
        func add(_ value: Double) { seconds.append(value) }
    }

    @Test func retriesHonourRetryAfterAndEventsAreBundled() async throws {
        try await withServer(.sqlite) { server in
            let sleeps = Sleeps()
            let source = TemplateDeviceSource(Self.template())
            let agent = try agent(server, folder: Folder(), source: source, transport: BusyFirst(), sleeper: { seconds in
                // Retry waits are recorded and skipped; the coalescing pause really waits.
                if seconds >= 1 { await sleeps.add(seconds) } else { try await Task.sleep(nanoseconds: UInt64(seconds * 1e9)) }
            }, coalesce: 0.2)
            let running = Task { await agent.run() }
            let start = Date()
            while await agent.status().checkIns < 1, Date().timeIntervalSince(start) < 20 { try await Task.sleep(nanoseconds: 20_000_000) }
            #expect(await Array(sleeps.seconds.prefix(2)) == [7, 7], "the server's Retry-After decides the wait")
            // Three observations in quick succession travel in one check-in.
            for host in ["a.example.com", "b.example.com", "a.example.com"] {
                try await agent.record([.activity(NetworkActivity(app: "com.whatsapp", host: host))])
            }
            while await agent.status().checkIns < 2, Date().timeIntervalSince(start) < 20 { try await Task.sleep(nanoseconds: 20_000_000) }
            try await Task.sleep(nanoseconds: 500_000_000)
            #expect(await agent.status().checkIns == 2)
            #expect(await agent.status().pendingEvents == 0)
            running.cancel()
        }
    }

    @Test func aMissedInventoryVersionBringsAFullInventory() async throws {
        try await withServer(.sqlite) { server in
            let folder = Folder()
            let source = TemplateDeviceSource(Self.template())
            let agent = try agent(server, folder: folder, source: source)
            try await agent.checkIn()
            var bytes = await agent.status().lastCheckInBytes
            #expect(bytes > 0)
            // The agent's memory of the inventory is off (restored from an old backup): the server asks for everything.
            var state = try folder.state.load()
            state.inventoryVersion = 9
            try folder.state.save(state)
            let confused = try self.agent(server, folder: folder, source: source)
            source.update { $0.apps?.installed?.append(InstalledApp(id: "org.mozilla.firefox", source: .playStore)) }
            let answer = try await confused.checkIn()
            #expect(answer.fullInventoryRequired)
            #expect(try folder.state.load().fullInventoryRequired)
            let resync = try await confused.checkIn()
            #expect(!resync.fullInventoryRequired)
            #expect(try folder.state.load().inventoryVersion == 10)
            // With nothing changed the next check-in carries no inventory at all.
            try await confused.checkIn()
            bytes = await confused.status().lastCheckInBytes
            #expect(bytes < 400, "a steady-state check-in is small: \(bytes) bytes")
        }
    }
}
