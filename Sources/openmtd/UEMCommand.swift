import ArgumentParser
import Foundation
import MTDServer
import UEMClient

struct UEMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uem",
        abstract: "The built-in Workspace ONE-compatible UEM: run it on its own, enroll devices in it.",
        subcommands: [UEMServeCommand.self, UEMEnrollCommand.self]
    )
}

struct UEMServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the built-in UEM alone (REST API under /API, OAuth tokens at /connect/token).",
        discussion: "The first start prints the tenant code (aw-tenant-code) and the uemadmin password (or takes it from OPENMTD_UEM_ADMIN_PASSWORD)."
    )

    @Option(name: .customLong("host"), help: "Address to listen on.") var host = "127.0.0.1"
    @Option(name: .customLong("port"), help: "Port to listen on.") var port = 8081
    @Option(name: .customLong("database-url"), help: "PostgreSQL URL; omit for the embedded SQLite file.") var databaseURL: String?
    @Option(name: .customLong("data-dir"), help: "Folder of the SQLite file.") var dataDirectory = "openmtd-uem-data"
    @Option(name: .customLong("tls-certificate"), help: "PEM certificate chain; with --tls-key the UEM serves HTTPS only.") var tlsCertificate: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key of the certificate.") var tlsKey: String?

    func run() async throws {
        var configuration = UEMServerConfiguration()
        configuration.hostname = host
        configuration.port = port
        configuration.databaseURL = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.dataDirectory = dataDirectory
        configuration.adminPassword = ProcessInfo.processInfo.environment["OPENMTD_UEM_ADMIN_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.tlsCertificatePath = tlsCertificate
        configuration.tlsKeyPath = tlsKey
        guard (1...65_535).contains(port) else { throw Terminal.badInput("--port \(port) is out of range 1-65535") }
        for (flag, path) in [("--tls-certificate", tlsCertificate), ("--tls-key", tlsKey)] {
            if let path, !FileManager.default.isReadableFile(atPath: path) { throw Terminal.badInput("\(flag) \(path): file cannot be read") }
        }
        do {
            try await StandaloneUEM.run(configuration: configuration)
        } catch {
            throw Terminal.failure("UEM stopped: \(error)")
        }
    }
}

struct UEMEnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll",
        abstract: "Enroll a device (or --count generated ones) in the built-in UEM over its REST API.",
        discussion: """
        Example: openmtd uem enroll --url http://127.0.0.1:8080/API --tenant-code CODE --username uemadmin \
        --udid 00008110-000A --platform Apple --user jo --email jo@example.com --model "iPhone 15" --os 18.1
        The password comes from --password or OPENMTD_UEM_PASSWORD. With --count N, devices <prefix>-1 … <prefix>-N \
        are enrolled for users <prefix>-user-1 …, with a progress line.
        """
    )

    @Option(name: .customLong("url"), help: "The UEM's REST base URL, ending in /API.") var url: String
    @Option(name: .customLong("tenant-code"), help: "The REST API key (aw-tenant-code).") var tenantCode: String
    @Option(name: .customLong("username"), help: "An admin account whose role has Devices Edit.") var username = "uemadmin"
    @Option(name: .customLong("password"), help: "The account's password (prefer OPENMTD_UEM_PASSWORD).") var password: String?
    @Option(name: .customLong("udid"), help: "The device's UDID.") var udid: String?
    @Option(name: .customLong("platform"), help: "Apple or Android.") var platform = "Android"
    @Option(name: .customLong("user"), help: "Enrollment user name (created when new).") var user: String?
    @Option(name: .customLong("email"), help: "The user's e-mail address.") var email: String?
    @Option(name: .customLong("serial"), help: "Serial number.") var serial: String?
    @Option(name: .customLong("model"), help: "Model name, e.g. \"Pixel 9\".") var model: String?
    @Option(name: .customLong("os"), help: "Operating system version, e.g. 16 or 18.1.") var os: String?
    @Option(name: .customLong("ownership"), help: "C (corporate), E (employee owned) or S (shared).") var ownership = "C"
    @Option(name: .customLong("organization-group"), help: "Numeric organization group id (default: the account's).") var organizationGroup: Int?
    @Option(name: .customLong("count"), help: "Enroll this many generated devices instead of one.") var count: Int?
    @Option(name: .customLong("prefix"), help: "Name prefix of generated devices.") var prefix = "sim"

    func run() async throws {
        guard let secret = password ?? ProcessInfo.processInfo.environment["OPENMTD_UEM_PASSWORD"], !secret.isEmpty else {
            throw Terminal.badInput("no password: pass --password or set OPENMTD_UEM_PASSWORD")
        }
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else { throw Terminal.badInput("--url must start with http:// or https://, got \(url)") }
        guard ["Apple", "Android"].contains(platform) else { throw Terminal.badInput("--platform must be Apple or Android, not \(platform)") }
        guard ["C", "E", "S"].contains(ownership) else { throw Terminal.badInput("--ownership must be C, E or S, not \(ownership)") }
        let client = WorkspaceOneClient(settings: .init(baseURL: url, tenantCode: tenantCode, username: username, password: secret))
        var enrollments: [UEMEnrollment] = []
        if let count {
            guard count >= 1, count <= 1_000_000 else { throw Terminal.badInput("--count must be between 1 and 1000000, got \(count)") }
            enrollments = (1...count).map { index in
                UEMEnrollment(udid: "\(prefix)-\(index)", platform: platform, userName: "\(prefix)-user-\(index)", email: "\(prefix)-user-\(index)@example.com",
                              serialNumber: "\(prefix.uppercased())\(String(format: "%07d", index))", model: model ?? (platform == "Apple" ? "iPhone 15" : "Pixel 9"),
                              operatingSystem: os ?? (platform == "Apple" ? "18.1" : "15"), ownership: ownership, organizationGroupID: organizationGroup)
            }
        } else {
            guard let udid, !udid.isEmpty else { throw Terminal.badInput("give --udid for one device, or --count for generated ones") }
            guard let user, !user.isEmpty else { throw Terminal.badInput("give --user, the enrollment user's name") }
            enrollments = [UEMEnrollment(udid: udid, platform: platform, userName: user, email: email, serialNumber: serial, model: model,
                                         operatingSystem: os, ownership: ownership, organizationGroupID: organizationGroup)]
        }
        let started = Date()
        for (index, enrollment) in enrollments.enumerated() {
            let device: UEMDeviceRecord
            do {
                device = try await client.enroll(enrollment)
            } catch {
                throw Terminal.failure("enrolling \(enrollment.udid) failed: \(error)" + Self.advice(error))
            }
            if enrollments.count == 1 {
                Terminal.out("enrolled \(device.udid): Id \(device.id), Uuid \(device.uuid), user \(device.userName ?? "")")
            } else if (index + 1) % 100 == 0 || index + 1 == enrollments.count {
                Terminal.progress("enrolled \(index + 1)/\(enrollments.count) (\(Int(Double(index + 1) / max(Date().timeIntervalSince(started), 0.001))) per second)")
            }
        }
        if enrollments.count > 1 { Terminal.out("enrolled \(enrollments.count) devices with prefix \(prefix)") }
    }

    static func advice(_ error: UEMClientError) -> String {
        switch error {
        case .credentials: "; check --username and the password"
        case .forbidden: "; check --tenant-code and that the account's role has Devices Edit"
        case .notFound: "; check --url (it ends in /API)"
        case .unavailable: "; is the UEM running at --url?"
        case .unexpected: ""
        case .refused: "; the address is on the egress deny list (link-local and cloud metadata addresses are never reached)"
        }
    }
}
