import FluentKit
import Foundation
import Logging
import MTDCore
import MTDDetection
import MTDServices
import MTDStore
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import ProtectiveDNS
import UEMClient

/// Runs the protective resolver with the server once `--dns-upstream` is given: DoH at
/// `/dns-query` (and `/dns-query/{resolver token}` for a device) on the HTTP server, and plain DNS
/// on `--dns-udp-port` / `--dns-tcp-port`. Plain DNS and token-less DoH and DoT count, without device
/// attribution, for the enterprise whose policy lists the client's network (`protectiveDNS.networks`),
/// or the server's first enterprise while no policy lists any (the embedded single-tenant setup).
final class ProtectiveDNSService: Sendable {
    struct Running: Sendable {
        var resolver: ProtectiveResolver
        var listeners: DNSListeners?
        var tls: DNSOverTLSListener?
        var reporter: DNSThreatReporter
        var reporting: Task<Void, Never>
        var networkRefresh: Task<Void, Never>
    }

    let metrics: DNSMetrics
    let tokens: ResolverTokenDirectory
    private let running = NIOLockedValueBox<Running?>(nil)
    /// The enterprises' declared networks, re-read with the policies.
    private let networks = NIOLockedValueBox<ResolverNetworks?>(nil)

    init(metrics: DNSMetrics, tokens: ResolverTokenDirectory) {
        self.metrics = metrics
        self.tokens = tokens
    }

    /// The ports bound (a port asked as 0 is the one the system chose).
    var ports: (udp: Int?, tcp: Int?, tls: Int?) {
        running.withLockedValue { ($0?.listeners?.udpPort, $0?.listeners?.tcpPort, $0?.tls?.port) }
    }

    var resolver: ProtectiveResolver? { running.withLockedValue { $0?.resolver } }
    var current: Running? { running.withLockedValue { $0 } }

    /// `mayResolve` tells whether this replica resolves the resolver's quiet threats (one at a time
    /// does); `tls` is the HTTP server's TLS, which DNS-over-TLS shares.
    func start(settings: ProtectiveDNSSettings, listenHost: String, tls: TLSConfiguration?, policies: PolicyService, writes: WriteGate,
               database: @escaping @Sendable () -> any Database, group: any EventLoopGroup, egress: EgressGuard,
               mayResolve: @escaping @Sendable () -> Bool) async throws {
        guard settings.isEnabled else { return }
        // Upstreams pass the same egress check as every other address the server is given.
        for upstream in settings.upstreams {
            do {
                _ = try await egress.addresses(of: upstream.host, label: "--dns-upstream \(upstream)")
            } catch {
                throw DNSConfigurationError("\(error); allow it with --egress-allow \(upstream.host), or choose another upstream")
            }
        }
        let logger = Logger(label: "openmtd.dns")
        let reporter = DNSThreatReporter(writes: writes, policies: policies, database: database)
        guard let enterpriseID = try await EnterpriseModel.query(on: database()).sort(\.$createdAt).first()?.id else {
            throw DNSConfigurationError("the resolver needs an enterprise; the server creates one at first start")
        }
        let resolver = try await ProtectiveResolver.start(
            .init(upstreams: settings.upstreams, upstreamTimeout: .milliseconds(Int64(settings.upstreamTimeoutMilliseconds)),
                  policyRefreshSeconds: settings.policyRefreshSeconds,
                  upstreamTrustRoots: settings.upstreamCAFile.map { .file($0) } ?? .default),
            policies: ServerDNSPolicies(policies: policies, database: database), group: group, metrics: metrics, logger: logger,
            onHit: { [reporter] hit in reporter.record(hit) }, onDeviceQuery: { [reporter] client in reporter.recordQuery(client) },
            onQueryLog: { [log = reporter.queryLog] query in log.record(query) })
        try await refreshNetworks(defaultEnterpriseID: enterpriseID, policies: policies, database: database)
        let networkRefresh = Task { [self] in
            while !Task.isCancelled {
                do { try await Task.sleep(for: .seconds(max(0.1, settings.policyRefreshSeconds))) } catch { break }
                do { try await refreshNetworks(defaultEnterpriseID: enterpriseID, policies: policies, database: database) } catch {
                    logger.warning("could not re-read the resolver networks; the last ones stay", metadata: ["error": "\(error)"])
                }
            }
        }
        var listeners: DNSListeners?
        var dot: DNSOverTLSListener?
        do {
            if settings.udpPort != nil || settings.tcpPort != nil {
                listeners = try await DNSListeners.start(resolver: resolver, admit: { [self] in unattributed($0?.ipAddress) }, host: settings.host ?? listenHost,
                                                         udpPort: settings.udpPort, tcpPort: settings.tcpPort, group: group)
            }
            if let port = settings.tlsPort {
                guard let tls else {
                    throw DNSConfigurationError("DNS-over-TLS (--dns-tls-port) needs the server's certificate: give --tls-certificate and --tls-key")
                }
                dot = try await DNSOverTLSListener.start(resolver: resolver, tls: tls, host: settings.host ?? listenHost, port: port, group: group,
                                                         logger: logger, admit: admission(database: database, logger: logger))
            }
        } catch {
            networkRefresh.cancel()
            await listeners?.stop()
            await resolver.shutdown()
            throw error
        }
        let reporting = Task { await reporter.run(mayResolve: mayResolve) }
        running.withLockedValue {
            $0 = Running(resolver: resolver, listeners: listeners, tls: dot, reporter: reporter, reporting: reporting,
                         networkRefresh: networkRefresh)
        }
        logger.info("protective DNS ready", metadata: [
            "doh": "/dns-query", "dot": "\(dot.map { String($0.port) } ?? "off")",
            "udp": "\(listeners?.udpPort.map(String.init) ?? "off")", "tcp": "\(listeners?.tcpPort.map(String.init) ?? "off")",
            "upstreams": "\(settings.upstreams.map(\.description).joined(separator: " "))",
        ])
    }

    /// Re-reads every enterprise's `protectiveDNS.networks`.
    func refreshNetworks(defaultEnterpriseID: UUID, policies: PolicyService, database: @escaping @Sendable () -> any Database) async throws {
        var declared: [UUID: [IPNetwork]] = [:]
        for enterprise in try await EnterpriseModel.query(on: database()).all() {
            guard let id = enterprise.id else { continue }
            let networks = try await policies.current(for: id, on: database()).engine.protectiveDNSRules.networks
            if !networks.isEmpty { declared[id] = networks }
        }
        let table = ResolverNetworks(defaultEnterpriseID: defaultEnterpriseID, networks: declared)
        networks.withLockedValue { $0 = table }
    }

    /// Whom an unattributed client at `address` counts for (called for every plain DNS datagram).
    func unattributed(_ address: String?) -> DNSAdmission {
        guard let table = networks.withLockedValue({ $0 }) else { return .refused("the resolver is starting") }
        if table.isEmpty { return .client(DNSClient(enterpriseID: table.defaultEnterpriseID)) }
        switch table.admission(for: address.flatMap(IPAddress.parse)) {
        case .enterprise(let id): return .client(DNSClient(enterpriseID: id))
        case .refused: return .refused("\(address ?? "this client") is not in a network an enterprise's policy lists (protectiveDNS.networks), and it gave no resolver token")
        }
    }

    /// A DoT server name `{resolver token}.dns.HOST` is that device (a revoked token: its enterprise);
    /// a name without a token counts by the client's network, like token-less DoH; an unknown token
    /// is refused, as DoH answers 404, so a mistyped profile shows at once.
    private func admission(database: @escaping @Sendable () -> any Database, logger: Logger) -> @Sendable (String?, SocketAddress?) async -> DNSAdmission {
        { [self, tokens] serverName, remote in
            guard let label = serverName?.split(separator: ".").first, ResolverTokenDirectory.isWellFormed(Substring(label.lowercased())) else {
                return unattributed(remote?.ipAddress)
            }
            do {
                guard let client = try await tokens.client(for: label, on: database()) else {
                    return .refused("unknown resolver token in the server name; the device's DNS profile must name its current token")
                }
                return .client(client)
            } catch {
                // Resolving without attribution keeps the phone protected while the database is away.
                logger.warning("a DoT resolver token could not be looked up", metadata: ["error": "\(error)"])
                return unattributed(remote?.ipAddress)
            }
        }
    }

    func stop() async {
        guard let current = running.withLockedValue({ state -> Running? in
            defer { state = nil }
            return state
        }) else { return }
        await current.listeners?.stop()
        await current.tls?.stop()
        current.reporting.cancel()
        current.networkRefresh.cancel()
        await current.reporting.value
        await current.resolver.shutdown()
    }
}

/// The enterprise's policy and intelligence, as the check-in path sees them.
struct ServerDNSPolicies: DNSPolicySource {
    let policies: PolicyService
    let database: @Sendable () -> any Database

    func engine(for enterpriseID: UUID) async throws -> DetectionEngine {
        try await policies.current(for: enterpriseID, on: database()).engine
    }
}
