import FluentKit
import Foundation
import Logging
import MTDDetection
import MTDStore
import NIOConcurrencyHelpers
import NIOCore
import ProtectiveDNS

/// Runs the protective resolver with the server when `--dns-udp-port` or `--dns-tcp-port` is given.
/// Plain DNS counts for the server's first enterprise (the embedded single-tenant setup); device
/// attribution comes with DoH and DoT tokens.
final class ProtectiveDNSService: Sendable {
    struct Running: Sendable {
        var resolver: ProtectiveResolver
        var listeners: DNSListeners
    }

    let metrics: DNSMetrics
    private let running = NIOLockedValueBox<Running?>(nil)

    init(metrics: DNSMetrics) {
        self.metrics = metrics
    }

    /// The ports bound (a port asked as 0 is the one the system chose).
    var ports: (udp: Int?, tcp: Int?) {
        running.withLockedValue { ($0?.listeners.udpPort, $0?.listeners.tcpPort) }
    }

    var resolver: ProtectiveResolver? { running.withLockedValue { $0?.resolver } }

    func start(settings: ProtectiveDNSSettings, listenHost: String, policies: PolicyService, database: @escaping @Sendable () -> any Database,
               group: any EventLoopGroup) async throws {
        guard settings.isEnabled else { return }
        let logger = Logger(label: "openmtd.dns")
        guard let enterpriseID = try await EnterpriseModel.query(on: database()).sort(\.$createdAt).first()?.id else {
            throw DNSConfigurationError("the resolver needs an enterprise; the server creates one at first start")
        }
        let resolver = try await ProtectiveResolver.start(
            .init(upstreams: settings.upstreams, upstreamTimeout: .milliseconds(Int64(settings.upstreamTimeoutMilliseconds)),
                  policyRefreshSeconds: settings.policyRefreshSeconds),
            policies: ServerDNSPolicies(policies: policies, database: database), group: group, metrics: metrics, logger: logger)
        let listeners: DNSListeners
        do {
            listeners = try await DNSListeners.start(resolver: resolver, client: DNSClient(enterpriseID: enterpriseID), host: settings.host ?? listenHost,
                                                     udpPort: settings.udpPort, tcpPort: settings.tcpPort, group: group)
        } catch {
            await resolver.shutdown()
            throw error
        }
        running.withLockedValue { $0 = Running(resolver: resolver, listeners: listeners) }
        logger.info("protective DNS listening", metadata: [
            "udp": "\(listeners.udpPort.map(String.init) ?? "off")", "tcp": "\(listeners.tcpPort.map(String.init) ?? "off")",
            "upstreams": "\(settings.upstreams.map(\.description).joined(separator: " "))",
        ])
    }

    func stop() async {
        guard let current = running.withLockedValue({ state -> Running? in
            defer { state = nil }
            return state
        }) else { return }
        await current.listeners.stop()
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
