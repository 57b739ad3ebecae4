import FluentKit
import Foundation
import Logging
import MTDDetection
import MTDServices
import MTDStore
import NIOConcurrencyHelpers
import NIOCore
import ProtectiveDNS

/// Runs the protective resolver with the server once `--dns-upstream` is given: DoH at
/// `/dns-query` (and `/dns-query/{resolver token}` for a device) on the HTTP server, and plain DNS
/// on `--dns-udp-port` / `--dns-tcp-port`. Plain DNS and token-less DoH count for the server's first
/// enterprise (the embedded single-tenant setup), without device attribution.
final class ProtectiveDNSService: Sendable {
    struct Running: Sendable {
        var resolver: ProtectiveResolver
        var listeners: DNSListeners?
        /// Who token-less queries count for.
        var defaultClient: DNSClient
        var reporter: DNSThreatReporter
        var reporting: Task<Void, Never>
    }

    let metrics: DNSMetrics
    let tokens: ResolverTokenDirectory
    private let running = NIOLockedValueBox<Running?>(nil)

    init(metrics: DNSMetrics, tokens: ResolverTokenDirectory) {
        self.metrics = metrics
        self.tokens = tokens
    }

    /// The ports bound (a port asked as 0 is the one the system chose).
    var ports: (udp: Int?, tcp: Int?) {
        running.withLockedValue { ($0?.listeners?.udpPort, $0?.listeners?.tcpPort) }
    }

    var resolver: ProtectiveResolver? { running.withLockedValue { $0?.resolver } }
    var current: Running? { running.withLockedValue { $0 } }

    /// `mayResolve` tells whether this replica resolves the resolver's quiet threats (one at a time does).
    func start(settings: ProtectiveDNSSettings, listenHost: String, policies: PolicyService, writes: WriteGate,
               database: @escaping @Sendable () -> any Database, group: any EventLoopGroup,
               mayResolve: @escaping @Sendable () -> Bool) async throws {
        guard settings.isEnabled else { return }
        let logger = Logger(label: "openmtd.dns")
        let reporter = DNSThreatReporter(writes: writes, policies: policies, database: database)
        guard let enterpriseID = try await EnterpriseModel.query(on: database()).sort(\.$createdAt).first()?.id else {
            throw DNSConfigurationError("the resolver needs an enterprise; the server creates one at first start")
        }
        let resolver = try await ProtectiveResolver.start(
            .init(upstreams: settings.upstreams, upstreamTimeout: .milliseconds(Int64(settings.upstreamTimeoutMilliseconds)),
                  policyRefreshSeconds: settings.policyRefreshSeconds),
            policies: ServerDNSPolicies(policies: policies, database: database), group: group, metrics: metrics, logger: logger,
            onHit: { [reporter] hit in reporter.record(hit) })
        let client = DNSClient(enterpriseID: enterpriseID)
        var listeners: DNSListeners?
        if settings.udpPort != nil || settings.tcpPort != nil {
            do {
                listeners = try await DNSListeners.start(resolver: resolver, client: client, host: settings.host ?? listenHost,
                                                         udpPort: settings.udpPort, tcpPort: settings.tcpPort, group: group)
            } catch {
                await resolver.shutdown()
                throw error
            }
        }
        let reporting = Task { await reporter.run(mayResolve: mayResolve) }
        running.withLockedValue { $0 = Running(resolver: resolver, listeners: listeners, defaultClient: client, reporter: reporter, reporting: reporting) }
        logger.info("protective DNS ready", metadata: [
            "doh": "/dns-query",
            "udp": "\(listeners?.udpPort.map(String.init) ?? "off")", "tcp": "\(listeners?.tcpPort.map(String.init) ?? "off")",
            "upstreams": "\(settings.upstreams.map(\.description).joined(separator: " "))",
        ])
    }

    func stop() async {
        guard let current = running.withLockedValue({ state -> Running? in
            defer { state = nil }
            return state
        }) else { return }
        await current.listeners?.stop()
        current.reporting.cancel()
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
