import MTDCore
import Prometheus

/// The resolver's Prometheus figures: queries, blocks by class, cache hits and misses, upstream
/// latency and errors. Registered in the server's registry so `/metrics` shows them.
public final class DNSMetrics: Sendable {
    let queries: Counter
    let malformed: Counter
    let cacheHits: Counter
    let cacheMisses: Counter
    let logged: Counter
    let upstreamErrors: Counter
    let upstreamSeconds: DurationHistogram
    private let blocks: [ThreatClassification: Counter]
    private let blocksOther: Counter

    public init(registry: PrometheusCollectorRegistry) {
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "openmtd", subsystem: "dns", metricName: metric, unitName: unit, helpText: help)
        }
        queries = registry.makeCounter(descriptor: name("queries", "total", "DNS queries received, all transports"))
        malformed = registry.makeCounter(descriptor: name("malformed", "total", "DNS messages that did not decode"))
        cacheHits = registry.makeCounter(descriptor: name("cache_hits", "total", "Queries answered from the cache"))
        cacheMisses = registry.makeCounter(descriptor: name("cache_misses", "total", "Queries that went to an upstream (or joined one in flight)"))
        logged = registry.makeCounter(descriptor: name("logged", "total", "Queries for flagged names answered normally (policy LOG_ONLY)"))
        upstreamErrors = registry.makeCounter(descriptor: name("upstream_errors", "total", "Upstream attempts that timed out, failed or answered SERVFAIL/REFUSED"))
        upstreamSeconds = registry.makeDurationHistogram(descriptor: name("upstream", "seconds", "Time an upstream took to answer"),
                                             buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(20), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(3)])
        let blocked = name("blocks", "total", "Queries answered as blocked, by content class")
        var blocks: [ThreatClassification: Counter] = [:]
        for classification in ProtectiveDNSRules.classes {
            blocks[classification] = registry.makeCounter(descriptor: blocked, labels: [("class", classification.rawValue)])
        }
        self.blocks = blocks
        blocksOther = registry.makeCounter(descriptor: blocked, labels: [("class", "OTHER")])
    }

    func blocked(_ classification: ThreatClassification?) -> Counter {
        classification.flatMap { blocks[$0] } ?? blocksOther
    }
}
