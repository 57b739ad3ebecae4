import Foundation
import NIOConcurrencyHelpers
import Prometheus
import Vapor

/// Prometheus figures for `/metrics`: requests, check-ins, threats, activations, devices and the
/// event log. One registry per application (not the process-global metrics system), so several
/// servers can run in one test process.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let checkIns: Counter
    let checkInSeconds: ValueHistogram
    let checkInRetries: Counter
    let checkInsLocked: Counter
    let databasePoolResets: Counter
    let threatsOpened: Counter
    let threatsResolved: Counter
    let activations: Counter
    let eventLogHead: Gauge
    let openThreats: Gauge
    let devices: Gauge
    let applicationKeysExpiring: Gauge
    let uemConnected: Gauge
    let uemPendingChanges: Gauge
    let uemLastSuccess: Gauge
    let uemErrors: Gauge
    let uemCalls: Gauge

    static let durationBuckets = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "openmtd", metricName: metric, unitName: unit, helpText: help)
    }

    init() {
        checkIns = registry.makeCounter(descriptor: Self.name("checkins", "total", "Check-ins processed"))
        checkInSeconds = registry.makeValueHistogram(
            descriptor: Self.name("checkin", "seconds", "Time to process one check-in"), buckets: Self.durationBuckets)
        checkInRetries = registry.makeCounter(
            descriptor: Self.name("checkin_retries", "total", "Check-ins prepared again because their device changed before they committed"))
        checkInsLocked = registry.makeCounter(
            descriptor: Self.name("checkin_locked", "total", "Check-ins that kept losing that race and committed holding the device's lock"))
        databasePoolResets = registry.makeCounter(
            descriptor: Self.name("database_pool_resets", "total", "PostgreSQL connection pools replaced because they stopped handing out connections"))
        threatsOpened = registry.makeCounter(descriptor: Self.name("threats_opened", "total", "Threats opened by check-ins"))
        threatsResolved = registry.makeCounter(descriptor: Self.name("threats_resolved", "total", "Threats resolved by check-ins"))
        activations = registry.makeCounter(descriptor: Self.name("activations", "total", "Successful device activations"))
        eventLogHead = registry.makeGauge(descriptor: Self.name("event_log", "head", "Id of the newest event in the log"))
        openThreats = registry.makeGauge(descriptor: Self.name("open", "threats", "Threats currently open, all enterprises"))
        devices = registry.makeGauge(descriptor: Self.name("known", "devices", "Devices known, all enterprises"))
        applicationKeysExpiring = registry.makeGauge(
            descriptor: Self.name("application_keys", "expiring", "Application keys that expire within 30 days, not revoked"))
        uemConnected = registry.makeGauge(descriptor: Self.name("uem", "connected", "1 when UEM sync is connected"))
        uemPendingChanges = registry.makeGauge(descriptor: Self.name("uem_pending", "changes", "Tag and threat-level changes not yet accepted by the UEM"))
        uemLastSuccess = registry.makeGauge(descriptor: Self.name("uem_last_success", "timestamp_seconds", "When UEM sync last succeeded (Unix time; 0 never)"))
        uemErrors = registry.makeGauge(descriptor: Self.name("uem_sync_errors", "total", "UEM sync passes that failed since start"))
        uemCalls = registry.makeGauge(descriptor: Self.name("uem_calls", "total", "Bulk UEM calls made by sync since start"))
    }

    /// Lease holders last exported per consumer, so a holder that changed is set back to 0.
    private let exportedHolders = NIOLockedValueBox<[String: String]>([:])

    private func gauge(descriptor: MetricNameDescriptor, labels: [(String, String)]) -> Gauge {
        registry.makeGauge(descriptor: descriptor, labels: labels)
    }

    func recordConsumers(_ statuses: [ConsumerRunner.Status]) {
        for status in statuses {
            let labels = [("consumer", status.name)]
            gauge(descriptor: Self.name("consumer_lag", "events", "Log positions between a consumer's cursor and the head"), labels: labels)
                .set(Double(status.lagEvents))
            gauge(descriptor: Self.name("consumer_lag", "seconds", "Age of the oldest event a consumer has not processed"), labels: labels)
                .set(status.lagSeconds)
            gauge(
                descriptor: Self.name("consumer_last_success", "timestamp_seconds", "When a consumer's last pass succeeded in this replica (Unix time; 0 never)"),
                labels: labels
            ).set(status.lastSuccessAt?.timeIntervalSince1970 ?? 0)
            gauge(descriptor: Self.name("consumer_errors", "total", "Failed passes of a consumer in this replica since start"), labels: labels)
                .set(Double(status.errors))
            gauge(descriptor: Self.name("consumer_processed_events", "total", "Events a consumer processed in this replica since start"), labels: labels)
                .set(Double(status.processedEvents))
            gauge(descriptor: Self.name("consumer_lease", "held", "1 when this replica holds the consumer's lease"), labels: labels)
                .set(status.holdsLease ? 1.0 : 0.0)
            let holder = status.leaseHolder ?? ""
            let previous = exportedHolders.withLockedValue { holders in
                defer { holders[status.name] = holder }
                return holders[status.name]
            }
            let holderName = Self.name("consumer_lease", "holder", "1 for the replica that holds the consumer's lease, as the database says")
            if let previous, previous != holder, !previous.isEmpty {
                gauge(descriptor: holderName, labels: [("consumer", status.name), ("holder", previous)]).set(0.0)
            }
            if !holder.isEmpty {
                gauge(descriptor: holderName, labels: [("consumer", status.name), ("holder", holder)]).set(1.0)
            }
        }
    }

    func recordCheckIn(seconds: Double, opened: Int, resolved: Int, retries: Int = 0, locked: Bool = false) {
        checkIns.increment()
        if retries > 0 { checkInRetries.increment(by: Int64(retries)) }
        if locked { checkInsLocked.increment() }
        checkInSeconds.record(seconds)
        if opened > 0 { threatsOpened.increment(by: Int64(opened)) }
        if resolved > 0 { threatsResolved.increment(by: Int64(resolved)) }
    }

    func requestCounter(method: String, route: String, status: Int) -> Counter {
        registry.makeCounter(
            descriptor: Self.name("http_requests", "total", "HTTP requests"),
            labels: [("method", method), ("route", route), ("status", "\(status)")])
    }

    func requestHistogram(route: String) -> ValueHistogram {
        registry.makeValueHistogram(
            descriptor: Self.name("http_request", "seconds", "HTTP request duration"), labels: [("route", route)],
            buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5])
    }

    func exposition() -> String {
        registry.emitToString()
    }
}

/// Counts and times every request by its route pattern (not its concrete path, to bound label values).
struct RequestMetricsMiddleware: AsyncMiddleware {
    let metrics: ServerMetrics

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let started = DispatchTime.now()
        let response = try await next.respond(to: request)
        let route = request.route.map { "/" + $0.path.map(\.description).joined(separator: "/") } ?? "unmatched"
        metrics.requestCounter(method: request.method.rawValue, route: route, status: Int(response.status.code)).increment()
        metrics.requestHistogram(route: route).record(Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9)
        return response
    }
}
