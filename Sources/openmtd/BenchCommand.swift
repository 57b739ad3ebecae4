import ArgumentParser
import Foundation
import MTDAutomations
import MTDCore
import MTDDetection
import MTDIntel
import MTDServer

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure detection (evaluate: intelligence load, decoding, evaluations per second), the agent (agent: bytes per check-in, memory per agent), event-log wake-ups (wakeup: commit to consumer woken, in one process and across replicas) the Mobile Risk API's event stream (stream: delivery latency and rate per client, replay) automation rule evaluation (automations: events matched per second against --rules rules, one core) or the resolver's per-query work (dns: decision and codec cost per query, one core).",
        discussion: "Build with -c release for meaningful figures: swift run -c release openmtd bench evaluate"
    )

    @Argument(help: "What to measure: evaluate, agent, wakeup, stream, automations or dns.")
    var target: String = "evaluate"

    @Option(name: .customLong("rounds"), help: "Timed rounds; the median is reported.")
    var rounds = 5

    @Option(name: .customLong("seconds"), help: "Length of each round, in seconds.")
    var seconds = 2.0

    @Flag(name: .customLong("json"), help: "Print the figures as one JSON object.")
    var json = false

    @Flag(name: .customLong("skip-decoding"), help: "Measure evaluation only (useful under a profiler).")
    var skipDecoding = false

    @Option(name: .customLong("database-url"), help: "wakeup: PostgreSQL URL (also measures the cross-replica path); omit for SQLite in a temporary folder.")
    var databaseURL: String?

    @Option(name: .customLong("events"), help: "wakeup: events to commit; automations: thousands of events to match.")
    var events = 500

    @Option(name: .customLong("url"), help: "stream: the server's base URL.")
    var url = "http://127.0.0.1:8080"

    @Option(name: .customLong("token"), help: "stream: a Mobile Risk API access token (events scope).")
    var token: String?

    @Option(name: .customLong("clients"), help: "stream: concurrent stream clients.")
    var clients = 1

    @Flag(name: .customLong("from-start"), help: "stream: read from the oldest retained event (replay).")
    var fromStart = false

    @Option(name: .customLong("stop-after"), help: "stream: stop a client after this many events.")
    var stopAfter: Int?

    @Option(name: .customLong("rules"), help: "automations: rules to match against.")
    var rules = 1_000

    @OptionGroup var intel: IntelOptions

    func validate() throws {
        guard ["evaluate", "agent", "wakeup", "stream", "automations", "dns"].contains(target) else {
            throw ValidationError("unknown benchmark \"\(target)\"; available: evaluate, agent, wakeup, stream, automations, dns")
        }
        guard (1...100_000).contains(rules) else { throw ValidationError("--rules must be between 1 and 100000") }
        guard (1...10_000).contains(clients) else { throw ValidationError("--clients must be between 1 and 10000") }
        if target == "stream", token == nil { throw ValidationError("stream needs --token: an access token from POST /oauth2/token") }
        guard (1...100_000).contains(events) else { throw ValidationError("--events must be between 1 and 100000") }
        guard rounds >= 1, seconds > 0 else { throw ValidationError("--rounds must be 1 or more and --seconds above 0") }
    }

    func run() async throws {
        if target == "automations" {
            // --events counts thousands here: rule evaluation is measured over 100,000s of events.
            let figures = AutomationBench.run(rules: rules, events: events * 1_000, rounds: rounds)
            if json {
                Terminal.out(String(decoding: try JSONEncoder().encode(figures), as: UTF8.self))
            } else {
                Terminal.out(String(format: "%d rules, %d events: %.0f events/s on one core (best of %d rounds), %d triggers",
                                    figures.rules, figures.events, figures.eventsPerSecond, rounds, figures.triggers))
            }
            return
        }
        if target == "agent" {
            try await AgentBench.run(json: json)
            return
        }
        if target == "stream", let token {
            let figures = try await StreamBench.run(url: url, token: token, clients: clients, seconds: seconds, fromStart: fromStart, stopAfter: stopAfter)
            if json {
                Terminal.out(String(decoding: try JSONEncoder().encode(figures), as: UTF8.self))
            } else {
                Terminal.out(String(format: "%d clients: %d events in %d frames, %.0f events/s per client; delivery p50 %.1f ms, p99 %.1f ms, max %.1f ms; %d failed",
                                    figures.clients, figures.events, figures.frames, figures.eventsPerSecondPerClient,
                                    figures.latencyP50Milliseconds, figures.latencyP99Milliseconds, figures.latencyMaxMilliseconds, figures.failures))
            }
            return
        }
        if target == "wakeup" {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("openmtd-wakeup-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let figures: [WakeupBenchmark.Figures]
            do {
                figures = try await WakeupBenchmark.run(databaseURL: databaseURL, dataDirectory: folder, events: events, spacingMilliseconds: 20,
                                                        progress: { Terminal.progress($0) })
            } catch {
                throw Terminal.failure("wake-up benchmark failed: \(error); check --database-url")
            }
            for figure in figures {
                if json {
                    let data = try JSONEncoder().encode(figure)
                    print(String(decoding: data, as: UTF8.self))
                } else {
                    print("\(figure.path): \(figure.woken)/\(figure.events) woken; p50 \(figure.p50ms) ms, p99 \(figure.p99ms) ms, max \(figure.maxms) ms")
                }
            }
            return
        }
        if target == "dns" {
            let engine: DetectionEngine
            do {
                engine = try DetectionEngine(policy: Policy(), intelligence: try intel.load())
            } catch {
                throw Terminal.failure("cannot build the detection engine: \(error)")
            }
            // --events counts thousands of names here, as for automations.
            let figures = DNSBench.run(engine: engine, names: events * 1_000, rounds: rounds)
            if json {
                Terminal.out(String(decoding: try JSONEncoder().encode(figures), as: UTF8.self))
            } else {
                Terminal.out(String(format: "%d names (%d blocked): decision %.0f ns per name, codec (decode the query, write the answer) %.0f ns per query, one core, best of %d rounds",
                                    figures.names, figures.blocked, figures.decisionNanoseconds, figures.codecNanoseconds, rounds))
            }
            return
        }
        let rssBefore = ProcessMemory.residentBytes()
        let loadStart = DispatchTime.now()
        let intelligence = try intel.load()
        let loadSeconds = Self.elapsed(since: loadStart)
        let rssAfter = ProcessMemory.residentBytes()
        let engine: DetectionEngine
        do {
            engine = try DetectionEngine(policy: Policy(), intelligence: intelligence)
        } catch {
            throw Terminal.failure("default policy rejected: \(error)")
        }
        let checkIn = TypicalDevice.checkIn()
        let encoder = JSONEncoder()
        let document = (try? encoder.encode(checkIn)) ?? Data()
        let asOfDay = Timestamp.day("2026-11-20") ?? 0

        let decoder = CheckInDecoder()
        let decodeRates = skipDecoding ? [0] : measure { count in
            for _ in 0..<count { _ = try? decoder.decode(document) }
        }
        var sink = 0
        let evaluationRates = measure { count in
            for _ in 0..<count { sink &+= engine.evaluate(checkIn, asOfDay: asOfDay).findings.count }
        }
        // The sum of findings keeps the optimizer from dropping the evaluations it measures.
        withExtendedLifetime(sink) {}
        let findings = engine.evaluate(checkIn, asOfDay: asOfDay).findings.map(\.classification.rawValue)
        let evalMedian = Self.median(evaluationRates)
        let decodeMedian = Self.median(decodeRates)
        if json {
            let figures: [String: Any] = [
                "intelLoadSeconds": loadSeconds, "intelResidentBytes": max(0, rssAfter - rssBefore), "processResidentBytes": rssAfter,
                "checkInBytes": document.count, "decodesPerSecond": decodeMedian, "evaluationsPerSecond": evalMedian,
                "evaluationRounds": evaluationRates, "findingsPerEvaluation": findings.count,
            ]
            let data = (try? JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys])) ?? Data()
            Terminal.out(String(decoding: data, as: UTF8.self))
            return
        }
        Terminal.out(String(format: "intelligence load: %.2f s, resident memory +%.1f MB (process %.1f MB)", loadSeconds, Double(rssAfter - rssBefore) / 1e6, Double(rssAfter) / 1e6))
        Terminal.out("typical check-in: \(document.count) bytes, 50 apps, 20 activity hosts; findings: \(findings.isEmpty ? "none" : findings.joined(separator: ", "))")
        Terminal.out(String(format: "check-in JSON decoding: %.0f decodes/s (median of %d rounds)", decodeMedian, rounds))
        Terminal.out(String(format: "evaluation (decoded facts, one core): %.0f evaluations/s (median of %d rounds; min %.0f, max %.0f)",
                            evalMedian, rounds, evaluationRates.min() ?? 0, evaluationRates.max() ?? 0))
    }

    /// Runs `body` in batches until each round lasts `seconds`; returns operations per second per round.
    private func measure(_ body: (Int) -> Void) -> [Double] {
        body(100) // warm up caches and lazy state
        var rates: [Double] = []
        for _ in 0..<rounds {
            var operations = 0
            let start = DispatchTime.now()
            var batch = 256
            while Self.elapsed(since: start) < seconds {
                body(batch)
                operations += batch
                batch = min(batch * 2, 65_536)
            }
            rates.append(Double(operations) / Self.elapsed(since: start))
        }
        return rates
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    static func elapsed(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}

/// Resident set size from /proc (Linux); 0 where unavailable.
enum ProcessMemory {
    static func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let digits = line.filter(\.isNumber)
            return (Int(digits) ?? 0) * 1024
        }
        return 0
    }
}
