import Foundation
import Prometheus
import Vapor

/// Prometheus figures for `/metrics`: requests, check-ins, threats and activations. One registry
/// per application (not the process-global metrics system), so several servers can run in one test process.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let checkIns: Counter
    let checkInSeconds: ValueHistogram
    let threatsOpened: Counter
    let threatsResolved: Counter
    let activations: Counter
    let eventLogHead: Gauge

    init() {
        checkIns = registry.makeCounter(name: "openmtd_checkins_total", help: "Check-ins processed")
        checkInSeconds = registry.makeValueHistogram(
            name: "openmtd_checkin_seconds", buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
            help: "Time to process one check-in, in seconds")
        threatsOpened = registry.makeCounter(name: "openmtd_threats_opened_total", help: "Threats opened by check-ins")
        threatsResolved = registry.makeCounter(name: "openmtd_threats_resolved_total", help: "Threats resolved by check-ins")
        activations = registry.makeCounter(name: "openmtd_activations_total", help: "Successful device activations")
        eventLogHead = registry.makeGauge(name: "openmtd_event_log_head", help: "Id of the newest event in the log")
    }

    func recordCheckIn(seconds: Double, opened: Int, resolved: Int) {
        checkIns.increment()
        checkInSeconds.record(seconds)
        if opened > 0 { threatsOpened.increment(by: Int64(opened)) }
        if resolved > 0 { threatsResolved.increment(by: Int64(resolved)) }
    }

    func requestCounter(method: String, route: String, status: Int) -> Counter {
        registry.makeCounter(name: "openmtd_http_requests_total", labels: [("method", method), ("route", route), ("status", "\(status)")], help: "HTTP requests")
    }

    func requestHistogram(route: String) -> ValueHistogram {
        registry.makeValueHistogram(
            name: "openmtd_http_request_seconds", labels: [("route", route)],
            buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5], help: "HTTP request duration in seconds")
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
