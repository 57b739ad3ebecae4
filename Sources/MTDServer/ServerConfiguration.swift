import MobileRiskAPI
import MTDAutomations
import Foundation
import ProtectiveDNS
import MTDCore

/// Everything `openmtd serve` can be told. Resolved from flags, then environment variables, then a
/// configuration file, then these defaults (see `ServerConfigurationLoader`).
public struct ServerConfiguration: Sendable, Codable, Equatable {
    public var hostname: String = "127.0.0.1"
    public var port: Int = 8080
    /// `postgres://user:password@host:5432/db`; nil means the embedded SQLite file.
    public var databaseURL: String?
    /// Folder of the SQLite file and imported intelligence.
    public var dataDirectory: String = "openmtd-data"
    /// How often agents check in, in seconds (told to them in every check-in response).
    public var checkInIntervalSeconds: Int = 900
    public var connection = ConnectionThresholds()
    /// How often the connection sweeper runs, in seconds.
    public var sweepIntervalSeconds: Int = 60
    /// Days the event log keeps events (never fewer than the 10 days a stream may reach back).
    public var eventRetentionDays: Int = 30
    /// The first owner's email; the password comes from OPENMTD_ADMIN_PASSWORD or is generated and printed once.
    public var adminEmail: String = "admin@openmtd.local"
    public var adminPassword: String?
    /// Password of the built-in UEM's first admin (`uemadmin`); generated and printed once when nil.
    public var uemAdminPassword: String?
    public var activationAttemptsPerMinute: Int = 10
    /// Failed admin logins allowed per client address and minute (admin API and console).
    public var loginAttemptsPerMinute: Int = 10
    /// An external Workspace ONE tenant; nil means the built-in UEM of this server.
    public var uem: UEMTenant?
    /// Whether tags the mapping needs but the UEM lacks are created (always for the built-in UEM).
    public var uemCreateMissingTags: Bool = false
    /// How often UEM devices are synced in, and how often tag drift is repaired, in seconds.
    public var uemDeviceSyncSeconds: Int = 300
    public var uemRepairSeconds: Int = 300
    /// How long tag sync waits after a change for more to arrive, in milliseconds: batching against latency.
    public var uemCoalesceMilliseconds: Int = 50
    /// Load balancers in front of this server (addresses or networks such as `10.0.0.0/8`): for
    /// requests from them, the client is the nearest untrusted address in X-Forwarded-For. Empty:
    /// the peer is the client. Rate limits per client depend on it behind a load balancer.
    public var trustedProxies: [String] = []
    /// The longest an event-log consumer sleeps between looks at the log when nothing wakes it
    /// (commits wake it at once; this only bounds what a lost notification costs).
    public var consumerPollSeconds: Double = 1
    /// Application keys, token lifetimes, stream and rate limits of the Mobile Risk API.
    public var mobileRisk = MobileRiskAPI.Settings()
    /// Retries, timeouts and limits of automation actions.
    public var automations = Automations.Settings()
    /// PEM certificate chain and private key: with both, the server speaks HTTPS only (real UEM
    /// clients and agents insist on it).
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    /// Tests that drive UEM sync themselves switch the automatic connection off.
    public var connectUEMAtStart: Bool = true
    /// The built-in UEM posts Workspace ONE event notifications to this server (enrolment,
    /// unenrolment, compliance change), which syncs the device at once. Off by default for now:
    /// activation already links at once, and notifications have not yet been measured on replicas.
    /// Config file `builtinUEMNotifications`, or `OPENMTD_BUILTIN_UEM_NOTIFICATIONS=1`.
    public var builtinUEMNotifications: Bool = false
    /// Egress policy for admin-supplied addresses (UEM URL, OAuth token URL): networks such as
    /// `10.0.0.0/8` and host names such as `*.awmdm.com`. An empty allow list allows what the deny
    /// list (plus link-local and cloud metadata addresses, always) does not refuse.
    public var egressAllow: [String] = []
    public var egressDeny: [String] = []
    /// The protective DNS resolver: off unless a UDP or TCP port is given.
    public var dns = ProtectiveDNSSettings()

    /// The policy from `egressAllow` and `egressDeny` (entries were checked when the settings were read).
    public var egressPolicy: EgressPolicy {
        func rules(_ entries: [String]) -> [EgressRule] { entries.compactMap(EgressRule.parse) }
        return EgressPolicy(allow: rules(egressAllow), deny: rules(egressDeny))
    }

    public init() {}

    /// Connection to a Workspace ONE UEM tenant's REST API.
    public struct UEMTenant: Sendable, Codable, Equatable {
        /// e.g. `https://as1234.awmdm.com/API`.
        public var baseURL: String
        public var tenantCode: String
        public var username: String
        public var password: String

        public init(baseURL: String, tenantCode: String, username: String, password: String) {
            self.baseURL = baseURL
            self.tenantCode = tenantCode
            self.username = username
            self.password = password
        }
    }

    public var sqlitePath: String { URL(fileURLWithPath: dataDirectory).appendingPathComponent("openmtd.sqlite").path }
    public var importedIntelligenceDirectory: URL { URL(fileURLWithPath: dataDirectory).appendingPathComponent("intel", isDirectory: true) }
}

/// `--dns-udp-port`, `--dns-tcp-port`, `--dns-tls-port`, `--dns-host`, `--dns-upstream`: where the
/// protective resolver listens and where it forwards. Port 0 picks a free port (tests).
public struct ProtectiveDNSSettings: Sendable, Codable, Equatable {
    public var udpPort: Int?
    public var tcpPort: Int?
    /// DNS-over-TLS (RFC 7858; 853 is its registered port); needs the server's TLS certificate.
    public var tlsPort: Int?
    /// Listen address; nil listens where the HTTP server does.
    public var host: String?
    public var upstreams: [DNSUpstream] = []
    public var upstreamTimeoutMilliseconds: Int = 1_500
    /// PEM certificate authorities for `tls://` and `https://` upstreams; nil: the system's.
    public var upstreamCAFile: String?
    /// How often the resolver re-reads an enterprise's policy (queries never wait for it).
    public var policyRefreshSeconds: Double = 5

    public init() {}

    /// With upstreams the resolver runs (DoH on the HTTP server); ports add plain DNS.
    public var isEnabled: Bool { udpPort != nil || tcpPort != nil || tlsPort != nil || !upstreams.isEmpty }
}
