import Foundation
import Testing

/// Every `openmtd` command that runs a server stops cleanly on SIGTERM and SIGINT, within seconds,
/// even with the demo fleet running next to it.
@Suite(.serialized) struct ShutdownTests {
    @Test(arguments: [SIGTERM, SIGINT])
    func serveWithTheDemoFleetStopsOnSignal(_ signal: Int32) async throws {
        let folder = try CLI.temporaryFolder()
        let port = Int.random(in: 20_000...40_000)
        let server = BackgroundCLI(["serve", "--demo", "--demo-devices", "5", "--port", "\(port)", "--data-dir", folder.appendingPathComponent("data").path],
                                   port: port, environment: ["OPENMTD_ADMIN_PASSWORD": "shutdown-test-pass", "OPENMTD_UEM_ADMIN_PASSWORD": "shutdown-uem-pass"])
        try server.start()
        defer { server.stop() }
        #expect(try await server.logged("demo fleet: 5 devices check in", prefix: "") != nil, "the demo fleet did not start:\n\(server.log)")
        // The seed's access control is in the UEM before the fleet checks in.
        #expect(server.log.contains("demo fleet: the Workspace ONE Tunnel profile goes to every phone except the MTD High Risk smart group"), "\(server.log)")
        #expect(!server.log.contains("could not set up the Tunnel profile"), "\(server.log)")
        let stopped = try await server.signal(signal, within: 15)
        #expect(stopped, "still running 15 s after signal \(signal):\n\(server.log)")
        #expect(!server.log.contains("Fatal error"), "\(server.log)")
        #expect(server.process.terminationStatus == 0, "exit status \(server.process.terminationStatus):\n\(server.log)")
    }

    @Test func uemServeStopsOnSIGTERM() async throws {
        let folder = try CLI.temporaryFolder()
        let port = Int.random(in: 20_000...40_000)
        let uem = BackgroundCLI(["uem", "serve", "--port", "\(port)", "--data-dir", folder.appendingPathComponent("uem").path], port: port,
                                environment: ["OPENMTD_UEM_ADMIN_PASSWORD": "cli-uem-admin-pass"])
        try uem.start()
        defer { uem.stop() }
        #expect(try await uem.logged("built-in UEM ready", prefix: "") != nil, "\(uem.log)")
        #expect(try await uem.signal(SIGTERM, within: 15), "\(uem.log)")
        #expect(uem.process.terminationStatus == 0, "\(uem.log)")
    }
}
