import AsyncHTTPClient
import BuiltinUEM
import FluentKit
import Foundation
import MTDCore
@testable import MTDServer
import MTDSimulator
import MTDStore
import Testing

/// The fleet simulator against a real server and its built-in UEM.
@Suite(.serialized) struct SimulatorTests {
    static let uemPassword = "uem-admin-password-1"

    func access(_ server: TestServer) async throws -> FleetAccess {
        let tenant = try await TenantCode.first(on: server.app.db)
        return FleetAccess(server: try #require(URL(string: server.baseURL)), enrollmentCode: server.enrollmentCode,
                           admin: .init(email: "owner@example.com", password: server.ownerPassword),
                           uem: .init(baseURL: server.baseURL + "/API", tenantCode: tenant, username: "uemadmin", password: Self.uemPassword))
    }

    // How fast is measured by benchmarks/simulate.sh, not here: a debug build sharing two cores with
    // the rest of the suite gives timings that say nothing about the product.
    @Test func aThousandDevicesEnrollActivateAndCheckIn() async throws {
        try await HeavyTestLock.run {
            try await withServer(.sqlite, adjust: { $0.uemAdminPassword = Self.uemPassword }) { server in
                let started = Date()
                var options = FleetOptions()
                options.devices = 1_000
                options.duration = 2
                options.checkInsPerSecond = 100
                options.concurrency = 32
                let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .patient(connections: options.concurrency))
                let fleet = Fleet(options: options, access: try await access(server), data: try FleetData.load(asOfDay: options.today), http: http)
                do {
                    try await fleet.prepare { _ in }
                    let summary = try await fleet.run { _ in }
                    let seconds = Date().timeIntervalSince(started)
                    #expect(summary.activated == 1_000)
                    let lastError = await fleet.lastError() ?? ""
                    #expect(summary.failures == 0, "\(lastError)")
                    #expect(summary.checkIns >= 1_000)
                    print("simulator: 1,000 devices enrolled, configured, activated and checked in within \(String(format: "%.1f", seconds)) s; \(summary)")
                    #expect(try await DeviceModel.query(on: server.app.db).filter(\.$activationStatus == .activated).count() == 1_000)
                    // Every device came through the UEM: enrolled there, and bound to the MTD device by UDID.
                    let uemDevices = try await DeviceModel.query(on: server.app.db).filter(\.$udid ~~ (0..<1_000).map { String(format: "sim-%06d", $0) }).count()
                    #expect(uemDevices == 1_000)
                    #expect(summary.securityStatus.values.reduce(0, +) == 1_000)
                    #expect((summary.securityStatus["THREATS_HIGH"] ?? 0) > 0, "the mix has stalkerware, phishing and jailbreaks")
                } catch {
                    try await http.shutdown()
                    throw error
                }
                try await http.shutdown()
            }
        }
    }

    @Test func aScenarioInstallsAndRemovesStalkerware() async throws {
        try await withServer(.sqlite, adjust: { $0.uemAdminPassword = Self.uemPassword }) { server in
            var options = FleetOptions()
            options.devices = 40
            options.prefix = "scn"
            options.mix = FleetMix()
            options.mix.stalkerwareShare = 0
            options.mix.phishingShare = 0
            options.mix.jailbreakShare = 0
            options.mix.outdatedShare = 0
            options.mix.androidShare = 1
            options.duration = 3
            options.checkInsPerSecond = 40
            options.scenario = Scenario(events: [.init(at: 0.5, action: .installStalkerware, share: 0.25), .init(at: 1.5, action: .removeStalkerware, share: nil)])
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .patient())
            let fleet = Fleet(options: options, access: try await access(server), data: try FleetData.load(asOfDay: options.today), http: http)
            do {
                try await fleet.prepare { _ in }
                let summary = try await fleet.run { _ in }
                #expect(summary.scenarioEvents == 2)
                #expect(summary.failures == 0)
                let threats = try await ThreatModel.query(on: server.app.db).filter(\.$classification ~~ ["SURVEILLANCEWARE", "SPYWARE", "STALKERWARE"]).all()
                #expect(Set(threats.map { $0.$device.id }).count == 10, "a quarter of 40 devices got stalkerware")
                #expect(threats.allSatisfy { $0.status == .resolved }, "and lost it again: \(threats.map(\.status))")
            } catch {
                try await http.shutdown()
                throw error
            }
            try await http.shutdown()
        }
    }
}
