import MTDServices
import ArgumentParser
import Foundation
import MTDCore
import MTDIntel
import MTDServer
import ProtectiveDNS
import Yams

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the OpenMTD server: agent API, admin API, event log (embedded SQLite unless a PostgreSQL URL is given).",
        discussion: """
        Settings come from flags, then environment variables, then --config (YAML or JSON with the same \
        names as ServerConfiguration: hostname, port, databaseURL, dataDirectory, checkInIntervalSeconds, \
        connection.unreachableAfterSeconds, connection.disconnectedAfterSeconds, sweepIntervalSeconds, adminEmail). \
        Environment: OPENMTD_HOST, OPENMTD_PORT, DATABASE_URL, OPENMTD_DATA_DIR, OPENMTD_CHECKIN_INTERVAL, \
        OPENMTD_UNREACHABLE_AFTER, OPENMTD_DISCONNECTED_AFTER, OPENMTD_ADMIN_EMAIL, OPENMTD_ADMIN_PASSWORD, \
        OPENMTD_ACTIVATIONS_PER_MINUTE (per client address, default 10), OPENMTD_UEM_ADMIN_PASSWORD (built-in UEM's \
        uemadmin), OPENMTD_UEM_URL, OPENMTD_UEM_TENANT_CODE, OPENMTD_UEM_USERNAME, OPENMTD_UEM_PASSWORD, OPENMTD_UEM_CREATE_TAGS=1, \
        OPENMTD_TLS_CERTIFICATE and OPENMTD_TLS_KEY (PEM files; HTTPS only), OPENMTD_MRA_REQUESTS_PER_MINUTE (Mobile Risk \
        API REST calls per enterprise, default 100), OPENMTD_MRA_STREAMS_PER_KEY (open event streams per application key and \
        replica, default 10), OPENMTD_APPLICATION_KEY_DAYS (application key lifetime, default 365), \
        OPENMTD_EVENT_RETENTION_DAYS (event log, default 30, at least 10). \
        Without an external tenant, tags and compliance go to the built-in UEM under /API of this server.
        Defaults: 127.0.0.1:8080, ./openmtd-data/openmtd.sqlite, check-ins every 900 s, unreachable after 1 day \
        and disconnected after 7 days without a check-in.
        """
    )

    @Option(name: .customLong("config"), help: "Configuration file (YAML or JSON).") var configFile: String?
    @Option(name: .customLong("host"), help: "Address to listen on.") var host: String?
    @Option(name: .customLong("port"), help: "Port to listen on.") var port: Int?
    @Option(name: .customLong("database-url"), help: "PostgreSQL URL; omit for the embedded SQLite file.") var databaseURL: String?
    @Option(name: .customLong("data-dir"), help: "Folder for the SQLite file and imported intelligence.") var dataDirectory: String?
    @Option(name: .customLong("check-in-interval"), help: "Seconds between agent check-ins.") var checkInInterval: Int?
    @Option(name: .customLong("unreachable-after"), help: "Seconds without a check-in before a device is UNREACHABLE.") var unreachableAfter: Int?
    @Option(name: .customLong("disconnected-after"), help: "Seconds without a check-in before a device is DISCONNECTED.") var disconnectedAfter: Int?
    @Option(name: .customLong("uem-url"), help: "Workspace ONE REST base URL (…/API) of an external tenant; omit to use the built-in UEM.") var uemURL: String?
    @Option(name: .customLong("uem-tenant-code"), help: "The tenant's REST API key (aw-tenant-code).") var uemTenantCode: String?
    @Option(name: .customLong("uem-username"), help: "The API account (Basic auth).") var uemUsername: String?
    @Option(name: .customLong("uem-password"), help: "The API account's password (prefer OPENMTD_UEM_PASSWORD).") var uemPassword: String?
    @Flag(name: .customLong("uem-create-tags"), help: "Create the mapped MTD tags the tenant lacks.") var uemCreateTags = false
    @Option(name: .customLong("tls-certificate"), help: "PEM certificate chain; with --tls-key the server speaks HTTPS only.") var tlsCertificate: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key of the certificate.") var tlsKey: String?
    @Option(name: .customLong("egress-allow"), help: "Network or host the server may connect to for admin-supplied addresses (UEM URL, OAuth token URL, webhooks, SMTP relay, DNS upstreams); repeatable, e.g. --egress-allow '*.awmdm.com'. Default: anywhere but the deny list.") var egressAllow: [String] = []
    @Option(name: .customLong("egress-deny"), help: "Network or host never to connect to, on top of link-local and cloud metadata addresses; repeatable.") var egressDeny: [String] = []
    @Option(name: .customLong("trusted-proxy"), help: "Address or network of a load balancer whose X-Forwarded-For names the client (rate limits per client); repeatable, e.g. --trusted-proxy 127.0.0.1.") var trustedProxies: [String] = []
    @Option(name: .customLong("dns-udp-port"), help: "Run the protective DNS resolver on this UDP port (0: any free port).") var dnsUDPPort: Int?
    @Option(name: .customLong("dns-tcp-port"), help: "Run the protective DNS resolver on this TCP port (0: any free port).") var dnsTCPPort: Int?
    @Option(name: .customLong("dns-tls-port"), help: "Serve DNS-over-TLS on this port (853 is DoT's; 0: any free port); needs --tls-certificate, whose names should cover *.dns.HOST for devices' resolver tokens.") var dnsTLSPort: Int?
    @Option(name: .customLong("dns-host"), help: "Address the resolver listens on (default: --host).") var dnsHost: String?
    @Option(name: .customLong("dns-upstream"), help: "Resolver to forward allowed names to, tried in turn; repeatable: udp://HOST:PORT, tls://HOST:PORT[#NAME] (DNS-over-TLS) or https://HOST/dns-query (DNS-over-HTTPS).") var dnsUpstreams: [String] = []
    @Option(name: .customLong("dns-upstream-ca"), help: "PEM file of the certificate authorities tls:// and https:// upstreams are checked against (default: the system's).") var dnsUpstreamCA: String?
    @Flag(name: .customLong("demo"), help: "Also run a simulated fleet against this server and its built-in UEM, so the console has life in it.") var demo = false
    @Option(name: .customLong("demo-devices"), help: "Devices in the --demo fleet.") var demoDevices = 50

    func run() async throws {
        let configuration: ServerConfiguration
        do {
            configuration = try ServerConfigurationLoader.resolve(
                file: configFile, environment: ProcessInfo.processInfo.environment,
                flags: .init(host: host, port: port, databaseURL: databaseURL, dataDirectory: dataDirectory,
                             checkInInterval: checkInInterval, unreachableAfter: unreachableAfter, disconnectedAfter: disconnectedAfter,
                             uemURL: uemURL, uemTenantCode: uemTenantCode, uemUsername: uemUsername, uemPassword: uemPassword, uemCreateTags: uemCreateTags,
                             tlsCertificate: tlsCertificate, tlsKey: tlsKey, egressAllow: egressAllow, egressDeny: egressDeny,
                             trustedProxies: trustedProxies, dnsUDPPort: dnsUDPPort, dnsTCPPort: dnsTCPPort, dnsTLSPort: dnsTLSPort, dnsHost: dnsHost,
                             dnsUpstreams: dnsUpstreams, dnsUpstreamCA: dnsUpstreamCA))
        } catch {
            throw Terminal.badInput("\(error)")
        }
        Terminal.progress("loading threat intelligence…")
        let intelligence: ThreatIntelligence
        do {
            intelligence = try IntelligenceLoader.load(importedDirectory: configuration.importedIntelligenceDirectory)
        } catch {
            throw Terminal.failure("cannot load threat intelligence: \(error)")
        }
        guard (1...100_000).contains(demoDevices) else { throw Terminal.badInput("--demo-devices must be between 1 and 100000") }
        let devices = demoDevices
        let certificate = configuration.tlsCertificatePath
        var whenListening: (@Sendable (DemoAccess) async -> Void)?
        if demo {
            whenListening = { access in await DemoFleet.run(access, devices: devices, trusting: certificate) }
        }
        // Policy evaluation as of a past day (reproducing an old evaluation, or tests whose documents
        // were written for one); the server still runs forward from it in real time.
        var clock = EvaluationClock.system
        if let asOf = ProcessInfo.processInfo.environment["OPENMTD_EVALUATE_AS_OF"], !asOf.isEmpty {
            guard let day = Timestamp.day(asOf) else {
                throw Terminal.badInput("environment OPENMTD_EVALUATE_AS_OF: expected a date YYYY-MM-DD, got \"\(asOf)\"")
            }
            clock = .starting(at: Date(timeIntervalSince1970: Double(day) * 86_400 + 43_200))
        }
        do {
            try await OpenMTDServer.run(configuration: configuration, intelligence: intelligence, evaluationClock: clock, whenListening: whenListening)
        } catch {
            throw Terminal.failure("server stopped: \(error)")
        }
    }
}

/// Flags over environment over file over defaults.
enum ServerConfigurationLoader {
    struct Flags {
        var host: String?
        var port: Int?
        var databaseURL: String?
        var dataDirectory: String?
        var checkInInterval: Int?
        var unreachableAfter: Int?
        var disconnectedAfter: Int?
        var uemURL: String? = nil
        var uemTenantCode: String? = nil
        var uemUsername: String? = nil
        var uemPassword: String? = nil
        var uemCreateTags = false
        var tlsCertificate: String? = nil
        var tlsKey: String? = nil
        var egressAllow: [String] = []
        var egressDeny: [String] = []
        var trustedProxies: [String] = []
        var dnsUDPPort: Int? = nil
        var dnsTCPPort: Int? = nil
        var dnsTLSPort: Int? = nil
        var dnsHost: String? = nil
        var dnsUpstreams: [String] = []
        var dnsUpstreamCA: String? = nil
    }

    struct ConfigError: Error, CustomStringConvertible {
        var description: String
    }

    /// The file's keys; every one optional.
    struct FileSettings: Decodable {
        struct Connection: Decodable {
            var unreachableAfterSeconds: Int?
            var disconnectedAfterSeconds: Int?
        }

        var hostname: String?
        var port: Int?
        var databaseURL: String?
        var dataDirectory: String?
        var checkInIntervalSeconds: Int?
        var connection: Connection?
        var sweepIntervalSeconds: Int?
        var adminEmail: String?
        var activationAttemptsPerMinute: Int?
        var uemDeviceSyncSeconds: Int?
        var uemRepairSeconds: Int?
        var tlsCertificatePath: String?
        var tlsKeyPath: String?
        var uemCoalesceMilliseconds: Int?
        var egressAllow: [String]?
        var egressDeny: [String]?
        var trustedProxies: [String]?
        var mobileRiskRequestsPerMinute: Int?
        var builtinUEMNotifications: Bool?
        var mobileRiskStreamsPerKey: Int?
        var applicationKeyDays: Int?
        var dnsUDPPort: Int?
        var dnsTCPPort: Int?
        var dnsTLSPort: Int?
        var dnsHost: String?
        var dnsUpstreams: [String]?
        var dnsUpstreamCA: String?
    }

    /// The resolver's ports and upstreams; the error names where a bad one came from.
    static func applyDNS(_ configuration: inout ServerConfiguration, udpPort: Int?, tcpPort: Int?, tlsPort: Int?, host: String?, upstreams: [String]?,
                         upstreamCA: String? = nil, source: (String) -> String) throws {
        if let upstreamCA, !upstreamCA.isEmpty {
            guard FileManager.default.isReadableFile(atPath: upstreamCA) else {
                throw ConfigError(description: "\(source("dnsUpstreamCA")) \(upstreamCA): file cannot be read; give a PEM file of certificate authorities")
            }
            configuration.dns.upstreamCAFile = upstreamCA
        }
        for (name, port) in [("dnsUDPPort", udpPort), ("dnsTCPPort", tcpPort), ("dnsTLSPort", tlsPort)] {
            if let port, !(0...65_535).contains(port) { throw ConfigError(description: "\(source(name)): must be from 0 (any free port) to 65535, got \(port)") }
        }
        configuration.dns.udpPort = udpPort ?? configuration.dns.udpPort
        configuration.dns.tcpPort = tcpPort ?? configuration.dns.tcpPort
        configuration.dns.tlsPort = tlsPort ?? configuration.dns.tlsPort
        configuration.dns.host = host ?? configuration.dns.host
        if let upstreams, !upstreams.isEmpty {
            configuration.dns.upstreams = try upstreams.map { text in
                do {
                    return try DNSUpstream(parsing: text.trimmingCharacters(in: .whitespaces))
                } catch {
                    throw ConfigError(description: "\(source("dnsUpstreams")): \(error)")
                }
            }
        }
    }

    /// The Mobile Risk API's limits, each within bounds; the error names where a bad one came from.
    static func applyMobileRisk(
        _ configuration: inout ServerConfiguration, requestsPerMinute: Int?, streamsPerKey: Int?, keyDays: Int?, source: (String) -> String
    ) throws {
        if let requestsPerMinute {
            guard (1...1_000_000).contains(requestsPerMinute) else {
                throw ConfigError(description: "\(source("mobileRiskRequestsPerMinute")): must be from 1 to 1000000, got \(requestsPerMinute)")
            }
            configuration.mobileRisk.requestsPerMinute = requestsPerMinute
        }
        if let streamsPerKey {
            guard (1...1_000).contains(streamsPerKey) else {
                throw ConfigError(description: "\(source("mobileRiskStreamsPerKey")): must be from 1 to 1000, got \(streamsPerKey)")
            }
            configuration.mobileRisk.stream.streamsPerKey = streamsPerKey
        }
        if let keyDays {
            guard (1...3_650).contains(keyDays) else {
                throw ConfigError(description: "\(source("applicationKeyDays")): must be from 1 to 3650 days, got \(keyDays)")
            }
            configuration.mobileRisk.keys.keyLifetime = Double(keyDays) * 86_400
        }
    }

    /// Every duration and count of the settings within bounds, whichever source set it: the server
    /// turns them into sleeps and bucket sizes, where a negative or huge value would trap (a sleep of
    /// -5 s is a conversion of a negative number to UInt64) instead of failing with a message.
    static func checkBounds(_ configuration: ServerConfiguration) throws {
        let week = 604_800, tenYears = 315_360_000
        let checks: [(String, Int, ClosedRange<Int>, String)] = [
            ("check-in interval (--check-in-interval, OPENMTD_CHECKIN_INTERVAL, checkInIntervalSeconds)", configuration.checkInIntervalSeconds, 10...week, "s"),
            ("unreachable-after (--unreachable-after, OPENMTD_UNREACHABLE_AFTER, connection.unreachableAfterSeconds)", configuration.connection.unreachableAfterSeconds, 1...tenYears, "s"),
            ("disconnected-after (--disconnected-after, OPENMTD_DISCONNECTED_AFTER, connection.disconnectedAfterSeconds)", configuration.connection.disconnectedAfterSeconds, 1...tenYears, "s"),
            ("sweepIntervalSeconds", configuration.sweepIntervalSeconds, 1...86_400, "s"),
            ("activation attempts per minute (OPENMTD_ACTIVATIONS_PER_MINUTE, activationAttemptsPerMinute)", configuration.activationAttemptsPerMinute, 1...1_000_000_000, ""),
            ("uemDeviceSyncSeconds", configuration.uemDeviceSyncSeconds, 1...week, "s"),
            ("uemRepairSeconds", configuration.uemRepairSeconds, 1...week, "s"),
            ("uemCoalesceMilliseconds", configuration.uemCoalesceMilliseconds, 0...60_000, "ms"),
        ]
        for (name, value, range, unit) in checks where !range.contains(value) {
            let suffix = unit.isEmpty ? "" : " \(unit)"
            throw ConfigError(description: "\(name): must be from \(range.lowerBound) to \(range.upperBound)\(suffix), got \(value)")
        }
    }

    /// Egress entries, each checked; the error names where the bad one came from.
    static func egressRules(_ entries: [String], source: String) throws -> [String] {
        let trimmed = entries.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for entry in trimmed where EgressRule.parse(entry) == nil {
            throw ConfigError(description: "\(source): \(EgressRuleError(entry: entry))")
        }
        return trimmed
    }

    /// Trusted proxy entries, each an address or a network; the error names where the bad one came from.
    static func proxyNetworks(_ entries: [String], source: String) throws -> [String] {
        let trimmed = entries.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for entry in trimmed where IPNetwork.parse(entry) == nil {
            throw ConfigError(description: "\(source): \"\(entry)\" is not an IP address or network such as 10.0.0.0/8")
        }
        return trimmed
    }

    static func resolve(file: String?, environment: [String: String], flags: Flags) throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else { throw ConfigError(description: "\(file): cannot be read") }
            let settings: FileSettings
            do {
                if file.hasSuffix(".json") {
                    settings = try JSONDecoder().decode(FileSettings.self, from: data)
                } else {
                    settings = try YAMLDecoder().decode(FileSettings.self, from: String(decoding: data, as: UTF8.self))
                }
            } catch {
                throw ConfigError(description: "\(file): \(DocumentError(decoding: error))")
            }
            configuration.hostname = settings.hostname ?? configuration.hostname
            configuration.port = settings.port ?? configuration.port
            configuration.databaseURL = settings.databaseURL ?? configuration.databaseURL
            configuration.dataDirectory = settings.dataDirectory ?? configuration.dataDirectory
            configuration.checkInIntervalSeconds = settings.checkInIntervalSeconds ?? configuration.checkInIntervalSeconds
            configuration.connection.unreachableAfterSeconds = settings.connection?.unreachableAfterSeconds ?? configuration.connection.unreachableAfterSeconds
            configuration.connection.disconnectedAfterSeconds = settings.connection?.disconnectedAfterSeconds ?? configuration.connection.disconnectedAfterSeconds
            configuration.sweepIntervalSeconds = settings.sweepIntervalSeconds ?? configuration.sweepIntervalSeconds
            configuration.adminEmail = settings.adminEmail ?? configuration.adminEmail
            configuration.activationAttemptsPerMinute = settings.activationAttemptsPerMinute ?? configuration.activationAttemptsPerMinute
            configuration.uemDeviceSyncSeconds = settings.uemDeviceSyncSeconds ?? configuration.uemDeviceSyncSeconds
            configuration.uemRepairSeconds = settings.uemRepairSeconds ?? configuration.uemRepairSeconds
            configuration.builtinUEMNotifications = settings.builtinUEMNotifications ?? configuration.builtinUEMNotifications
            configuration.tlsCertificatePath = settings.tlsCertificatePath ?? configuration.tlsCertificatePath
            configuration.uemCoalesceMilliseconds = settings.uemCoalesceMilliseconds ?? configuration.uemCoalesceMilliseconds
            configuration.tlsKeyPath = settings.tlsKeyPath ?? configuration.tlsKeyPath
            configuration.egressAllow = try egressRules(settings.egressAllow ?? [], source: "\(file): egressAllow")
            configuration.egressDeny = try egressRules(settings.egressDeny ?? [], source: "\(file): egressDeny")
            configuration.trustedProxies = try proxyNetworks(settings.trustedProxies ?? [], source: "\(file): trustedProxies")
            try applyMobileRisk(
                &configuration, requestsPerMinute: settings.mobileRiskRequestsPerMinute, streamsPerKey: settings.mobileRiskStreamsPerKey,
                keyDays: settings.applicationKeyDays, source: { "\(file): \($0)" })
            try applyDNS(&configuration, udpPort: settings.dnsUDPPort, tcpPort: settings.dnsTCPPort, tlsPort: settings.dnsTLSPort, host: settings.dnsHost,
                         upstreams: settings.dnsUpstreams, upstreamCA: settings.dnsUpstreamCA,
                         source: { "\(file): \($0)" })
        }
        func integer(_ name: String) throws -> Int? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = Int(text) else { throw ConfigError(description: "environment \(name): expected a whole number, got \"\(text)\"") }
            return value
        }
        configuration.hostname = environment["OPENMTD_HOST"] ?? configuration.hostname
        configuration.port = try integer("OPENMTD_PORT") ?? configuration.port
        configuration.databaseURL = environment["DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? configuration.databaseURL
        configuration.dataDirectory = environment["OPENMTD_DATA_DIR"] ?? configuration.dataDirectory
        configuration.checkInIntervalSeconds = try integer("OPENMTD_CHECKIN_INTERVAL") ?? configuration.checkInIntervalSeconds
        configuration.connection.unreachableAfterSeconds = try integer("OPENMTD_UNREACHABLE_AFTER") ?? configuration.connection.unreachableAfterSeconds
        configuration.connection.disconnectedAfterSeconds = try integer("OPENMTD_DISCONNECTED_AFTER") ?? configuration.connection.disconnectedAfterSeconds
        configuration.adminEmail = environment["OPENMTD_ADMIN_EMAIL"] ?? configuration.adminEmail
        configuration.adminPassword = environment["OPENMTD_ADMIN_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.activationAttemptsPerMinute = try integer("OPENMTD_ACTIVATIONS_PER_MINUTE") ?? configuration.activationAttemptsPerMinute
        if let days = try integer("OPENMTD_EVENT_RETENTION_DAYS") {
            guard (10...36_500).contains(days) else {
                throw ConfigError(description: "environment OPENMTD_EVENT_RETENTION_DAYS: must be from 10 (the event stream reaches 10 days back) to 36500, got \(days)")
            }
            configuration.eventRetentionDays = days
        }
        configuration.uemAdminPassword = environment["OPENMTD_UEM_ADMIN_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        try applyMobileRisk(
            &configuration, requestsPerMinute: try integer("OPENMTD_MRA_REQUESTS_PER_MINUTE"), streamsPerKey: try integer("OPENMTD_MRA_STREAMS_PER_KEY"),
            keyDays: try integer("OPENMTD_APPLICATION_KEY_DAYS"), source: { name in
                ["mobileRiskRequestsPerMinute": "environment OPENMTD_MRA_REQUESTS_PER_MINUTE",
                 "mobileRiskStreamsPerKey": "environment OPENMTD_MRA_STREAMS_PER_KEY",
                 "applicationKeyDays": "environment OPENMTD_APPLICATION_KEY_DAYS"][name] ?? name
            })
        for (name, isAllow) in [("OPENMTD_EGRESS_ALLOW", true), ("OPENMTD_EGRESS_DENY", false)] {
            guard let text = environment[name], !text.isEmpty else { continue }
            let entries = try egressRules(text.split(separator: ",").map(String.init), source: "environment \(name)")
            if isAllow { configuration.egressAllow = entries } else { configuration.egressDeny = entries }
        }
        if !flags.egressAllow.isEmpty { configuration.egressAllow = try egressRules(flags.egressAllow, source: "--egress-allow") }
        if !flags.egressDeny.isEmpty { configuration.egressDeny = try egressRules(flags.egressDeny, source: "--egress-deny") }
        if let text = environment["OPENMTD_TRUSTED_PROXIES"], !text.isEmpty {
            configuration.trustedProxies = try proxyNetworks(text.split(separator: ",").map(String.init), source: "environment OPENMTD_TRUSTED_PROXIES")
        }
        if !flags.trustedProxies.isEmpty { configuration.trustedProxies = try proxyNetworks(flags.trustedProxies, source: "--trusted-proxy") }

        configuration.hostname = flags.host ?? configuration.hostname
        configuration.port = flags.port ?? configuration.port
        configuration.databaseURL = flags.databaseURL ?? configuration.databaseURL
        configuration.dataDirectory = flags.dataDirectory ?? configuration.dataDirectory
        configuration.checkInIntervalSeconds = flags.checkInInterval ?? configuration.checkInIntervalSeconds
        configuration.connection.unreachableAfterSeconds = flags.unreachableAfter ?? configuration.connection.unreachableAfterSeconds
        configuration.connection.disconnectedAfterSeconds = flags.disconnectedAfter ?? configuration.connection.disconnectedAfterSeconds
        try applyDNS(&configuration, udpPort: flags.dnsUDPPort, tcpPort: flags.dnsTCPPort, tlsPort: flags.dnsTLSPort, host: flags.dnsHost,
                     upstreams: flags.dnsUpstreams, upstreamCA: flags.dnsUpstreamCA, source: { name in
            ["dnsUDPPort": "--dns-udp-port", "dnsTCPPort": "--dns-tcp-port", "dnsTLSPort": "--dns-tls-port", "dnsUpstreams": "--dns-upstream",
             "dnsUpstreamCA": "--dns-upstream-ca"][name] ?? name
        })
        if configuration.dns.isEnabled, configuration.dns.upstreams.isEmpty {
            throw ConfigError(description: "the protective DNS resolver needs at least one --dns-upstream, e.g. --dns-upstream udp://9.9.9.9:53")
        }

        let uemURL = flags.uemURL ?? environment["OPENMTD_UEM_URL"]
        if let uemURL, !uemURL.isEmpty {
            let code = flags.uemTenantCode ?? environment["OPENMTD_UEM_TENANT_CODE"]
            let user = flags.uemUsername ?? environment["OPENMTD_UEM_USERNAME"]
            let password = flags.uemPassword ?? environment["OPENMTD_UEM_PASSWORD"]
            guard let code, let user, let password, !code.isEmpty, !user.isEmpty, !password.isEmpty else {
                throw ConfigError(description: "--uem-url needs --uem-tenant-code, --uem-username and --uem-password (or OPENMTD_UEM_TENANT_CODE, OPENMTD_UEM_USERNAME, OPENMTD_UEM_PASSWORD)")
            }
            guard uemURL.hasPrefix("http://") || uemURL.hasPrefix("https://") else {
                throw ConfigError(description: "--uem-url must start with https:// (or http:// for a local UEM), got \(uemURL)")
            }
            configuration.uem = .init(baseURL: uemURL, tenantCode: code, username: user, password: password)
        }
        configuration.uemCreateMissingTags = flags.uemCreateTags || environment["OPENMTD_UEM_CREATE_TAGS"] == "1"
        if environment["OPENMTD_BUILTIN_UEM_NOTIFICATIONS"] == "1" { configuration.builtinUEMNotifications = true }
        configuration.tlsCertificatePath = flags.tlsCertificate ?? environment["OPENMTD_TLS_CERTIFICATE"] ?? configuration.tlsCertificatePath
        configuration.tlsKeyPath = flags.tlsKey ?? environment["OPENMTD_TLS_KEY"] ?? configuration.tlsKeyPath
        switch (configuration.tlsCertificatePath, configuration.tlsKeyPath) {
        case (nil, nil): break
        case (let certificate?, let key?):
            for (name, path) in [("TLS certificate", certificate), ("TLS key", key)] where !FileManager.default.isReadableFile(atPath: path) {
                throw ConfigError(description: "\(name) \(path): file cannot be read")
            }
        default:
            throw ConfigError(description: "TLS needs both --tls-certificate and --tls-key (or OPENMTD_TLS_CERTIFICATE and OPENMTD_TLS_KEY)")
        }
        if configuration.dns.tlsPort != nil, configuration.tlsCertificatePath == nil {
            throw ConfigError(description: "--dns-tls-port: DNS-over-TLS needs a certificate; give --tls-certificate and --tls-key (its names should cover *.dns.HOST)")
        }
        guard (1...65_535).contains(configuration.port) else { throw ConfigError(description: "port \(configuration.port) is out of range 1-65535") }
        try checkBounds(configuration)
        guard configuration.connection.unreachableAfterSeconds < configuration.connection.disconnectedAfterSeconds else {
            throw ConfigError(description: "unreachable-after (\(configuration.connection.unreachableAfterSeconds) s) must be shorter than disconnected-after (\(configuration.connection.disconnectedAfterSeconds) s)")
        }
        return configuration
    }
}
