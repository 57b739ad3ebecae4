import AsyncHTTPClient
import Foundation
import MTDServer
import MTDSimulator
import NIOSSL

/// `openmtd serve --demo`: the simulator's fleet, started next to the server so a newcomer sees a
/// living console: devices check in every 30 s; a tenth get stalkerware at minute 2 and lose it at
/// minute 6; some visit phishing sites at minute 4. The built-in UEM gets the seed article's access
/// control, so those threats visibly take the Tunnel profile away and give it back.
enum DemoFleet {
    static func run(_ access: DemoAccess, devices: Int, trusting certificate: String?) async {
        var options = FleetOptions()
        options.devices = devices
        options.prefix = "demo"
        options.interval = 30
        options.concurrency = 8
        options.duration = nil
        options.scenario = Scenario(events: [
            .init(at: 120, action: .installStalkerware, share: 0.1),
            .init(at: 240, action: .visitPhishing, share: 0.05),
            .init(at: 360, action: .removeStalkerware, share: nil),
        ])
        var configuration = HTTPClient.Configuration()
        if let certificate {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(certificate)
            tls.certificateVerification = .noHostnameVerification
            configuration.tlsConfiguration = tls
        }
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let fleet = Fleet(options: options, access: FleetAccess(
                server: access.serverURL, enrollmentCode: access.enrollmentCode,
                uem: .init(baseURL: access.uemBaseURL, tenantCode: access.tenantCode, username: access.username, password: access.password)),
                data: try FleetData.load(asOfDay: options.today), http: http)
            try await fleet.prepare { Terminal.progress("demo fleet: \($0)") }
            do {
                try await SeedAccessControl.ensure(access, http: http)
            } catch {
                Terminal.error("demo fleet: could not set up the Tunnel profile and the High Risk smart group: \(error)")
            }
            Terminal.progress("demo fleet: \(devices) devices check in every 30 s; stalkerware appears at minute 2 and goes at minute 6")
            _ = try await fleet.run { _ in }
        } catch {
            Terminal.error("demo fleet stopped: \(error)")
        }
        try? await http.shutdown()
    }
}
