import AsyncHTTPClient
import BuiltinUEM
import FluentKit
import Foundation
import MTDCore
@testable import MTDServer
import MTDSimulator
import MTDStore
import TestSupport
import Testing

/// The console in a real browser: headless Chromium from Debian's packages, driven by Selenium
/// (`Tests/Browser/console_walkthrough.py`), against a real server with a simulated fleet. Every
/// page is checked with axe-core; screenshots go to `.build/console-screenshots`.
@Suite(.serialized) struct ConsoleBrowserTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Chromium, its driver and the Python packages (`.ci/run` installs them); without them the
    /// test is reported as skipped (a failure under CI=true).
    static let browserAvailable: Bool = {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"), FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver") else { return false }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import selenium, axe_selenium_python"]
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }()

    @Test(.enabled(if: browserAvailable || Prerequisite.inCI, "chromium, chromium-driver, selenium or axe-selenium-python is missing (see .ci/run)"))
    func anAdminWalksThroughTheConsole() async throws {
        guard Self.browserAvailable else {
            try Prerequisite.missing("chromium, chromium-driver or the Python packages selenium and axe-selenium-python are missing (see .ci/run)")
        }
        try await HeavyTestLock.run { try await walkThrough() }
    }

    func walkThrough() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { try? await receiver.stop() } }
        try await withServer(.sqlite, adjust: { $0.uemAdminPassword = "uem-admin-password-1" }) { server in
            // A fleet with plenty to look at: stalkerware, phishing, old OS versions.
            var options = FleetOptions()
            options.devices = 40
            options.prefix = "ui"
            options.mix.stalkerwareShare = 0.2
            options.mix.androidShare = 0.7
            options.duration = 1
            options.checkInsPerSecond = 40
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .patient())
            do {
                let tenant = try await TenantCode.first(on: server.app.db)
                let fleet = Fleet(options: options, access: FleetAccess(
                    server: try #require(URL(string: server.baseURL)), enrollmentCode: server.enrollmentCode,
                    uem: .init(baseURL: server.baseURL + "/API", tenantCode: tenant, username: "uemadmin", password: "uem-admin-password-1")),
                    data: try FleetData.load(asOfDay: options.today), http: http)
                try await fleet.prepare { _ in }
                _ = try await fleet.run { _ in }
            } catch {
                try await http.shutdown()
                throw error
            }
            try await http.shutdown()
            #expect(try await UEMConnectionLifecycle.connect(app: server.app, services: server.app.mtd))

            // A device whose only open threat is below HIGH: raising that classification must make it high risk.
            let open = try await ThreatModel.query(on: server.app.db).filter(\.$status == .open).all()
            let byDevice = Dictionary(grouping: open, by: { $0.$device.id })
            let candidate = try #require(byDevice.first { $0.value.count == 1 && $0.value[0].severity != .high && $0.value[0].severity != .none },
                                         "the fleet has a device with one medium or low threat")
            let folder = Self.root.appendingPathComponent(".build/console-screenshots")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", Self.root.appendingPathComponent("Tests/Browser/console_walkthrough.py").path]
            var environment = ProcessInfo.processInfo.environment
            environment["BASE"] = server.baseURL
            environment["EMAIL"] = "owner@example.com"
            environment["PASSWORD"] = server.ownerPassword
            environment["DEVICE_ID"] = candidate.key.uuidString.lowercased()
            environment["CLASSIFICATION"] = candidate.value[0].classification
            environment["SHOTS"] = folder.path
            environment["HOOK_URL"] = receiver.baseURL + "/hook"
            process.environment = environment
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            // The script runs while this task waits; the server keeps answering on its own event loops.
            let data = await Task.detached { output.fileHandleForReading.readDataToEndOfFile() }.value
            process.waitUntilExit()
            let text = String(decoding: data, as: UTF8.self)
            print(text)
            #expect(process.terminationStatus == 0, "\(text)")
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("dashboard.png").path))
            // The rule made in the browser called the receiver, signed with the secret typed there.
            let call = try #require(receiver.calls.first, "the console's rule never called the webhook")
            #expect(WebhookReceiver.signatureIsValid(call, secret: "browser-walkthrough-secret-1"))
        }
    }
}
