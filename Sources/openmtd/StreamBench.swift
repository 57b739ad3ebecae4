import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// `openmtd bench stream`: clients on the Mobile Risk API's event stream, from outside the server.
/// Each client reads frames as they come and, per `events` frame, takes the delivery latency of the
/// batch's oldest event (arrival minus its `created_time`, which the server sets as the change is
/// written, just before it commits) and counts the events. With `--from-start`, one pass over the
/// retained log measures the replay rate.
enum StreamBench {
    struct Figures: Codable {
        var clients: Int
        var seconds: Double
        var events: Int
        var eventsPerSecondPerClient: Double
        var frames: Int
        var latencyP50Milliseconds: Double
        var latencyP99Milliseconds: Double
        var latencyMaxMilliseconds: Double
        var failures: Int
    }

    struct ClientResult: Sendable {
        var events = 0
        var frames = 0
        var latencies: [Double] = []
        var failed = false
        var firstEventAt: Double?
        var lastEventAt: Double?
    }

    static func run(url: String, token: String, clients: Int, seconds: Double, fromStart: Bool, stopAfter: Int?) async throws -> Figures {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(5)))
        // One connection per client (the default allows 8 per host; the rest would queue).
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: clients)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var query = ""
        if fromStart {
            // As far back as the stream goes.
            let start = Date().addingTimeInterval(-10 * 86_400 + 60)
            query = "?start_time=" + ISO8601DateFormatter().string(from: start)
        }
        let streamURL = url + "/mra/stream/v2/events" + query
        let results = await withTaskGroup(of: ClientResult.self) { group in
            for _ in 0..<clients {
                group.addTask { await client(http: http, url: streamURL, token: token, seconds: seconds, stopAfter: stopAfter) }
            }
            var all: [ClientResult] = []
            for await result in group { all.append(result) }
            return all
        }
        try await http.shutdown()
        let latencies = results.flatMap(\.latencies).sorted()
        func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            return latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] * 1000
        }
        let events = results.map(\.events).reduce(0, +)
        // The rate over the span the events arrived in (the stream may idle before and after).
        let spans = results.compactMap { result -> Double? in
            guard let first = result.firstEventAt, let last = result.lastEventAt, last > first else { return nil }
            return last - first
        }
        let span = spans.isEmpty ? seconds : spans.reduce(0, +) / Double(spans.count)
        return Figures(
            clients: clients, seconds: seconds, events: events,
            eventsPerSecondPerClient: Double(events) / Double(max(clients, 1)) / max(span, 0.001),
            frames: results.map(\.frames).reduce(0, +),
            latencyP50Milliseconds: percentile(0.5), latencyP99Milliseconds: percentile(0.99), latencyMaxMilliseconds: percentile(1.0),
            failures: results.filter(\.failed).count)
    }

    static func client(http: HTTPClient, url: String, token: String, seconds: Double, stopAfter: Int?) async -> ClientResult {
        var result = ClientResult()
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "text/event-stream")
        let deadline = Date().addingTimeInterval(seconds)
        do {
            let response = try await http.execute(request, deadline: .now() + .milliseconds(Int64(seconds * 1000)))
            guard response.status == .ok else {
                result.failed = true
                return result
            }
            // Frames are cut out in place; the buffer is compacted now and then, and each byte is
            // scanned for the blank line once.
            var pending: [UInt8] = []
            var consumed = 0
            var scanned = 0
            for try await chunk in response.body {
                pending.append(contentsOf: chunk.readableBytesView)
                while let end = frameEnd(pending, from: max(scanned, consumed)) {
                    record(pending[consumed..<end], into: &result)
                    consumed = end + 2
                    scanned = consumed
                }
                scanned = max(pending.count - 1, consumed)
                if consumed > 1 << 20 {
                    pending.removeFirst(consumed)
                    scanned -= consumed
                    consumed = 0
                }
                if Date() >= deadline { break }
                if let stopAfter, result.events >= stopAfter { break }
            }
        } catch {
            // The deadline ends the request: that is how a timed run stops.
            if Date() < deadline, stopAfter.map({ result.events < $0 }) ?? true { result.failed = true }
        }
        return result
    }

    /// The index of the blank line that ends the first complete frame at or after `start`.
    static func frameEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= 2 else { return nil }
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == 10, bytes[index + 1] == 10 { return index }
            index += 1
        }
        return nil
    }

    static let marker = Array("\"created_time\":\"".utf8)

    static func record(_ frame: ArraySlice<UInt8>, into result: inout ClientResult) {
        guard frame.starts(with: Array("id:".utf8)), let eventLine = firstIndex(of: Array("event:events".utf8), in: frame, from: frame.startIndex) else { return }
        let now = Date().timeIntervalSince1970
        result.frames += 1
        var position = eventLine
        var first = true
        while let found = firstIndex(of: marker, in: frame, from: position) {
            let start = found + marker.count
            if first, let created = epoch(frame, at: start) {
                result.latencies.append(max(now - created, 0))
                first = false
            }
            result.events += 1
            position = start
        }
        if result.firstEventAt == nil { result.firstEventAt = now }
        result.lastEventAt = now
    }

    static func firstIndex(of needle: [UInt8], in haystack: ArraySlice<UInt8>, from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.endIndex - start >= needle.count else { return nil }
        var index = start
        let last = haystack.endIndex - needle.count
        while index <= last {
            if haystack[index] == needle[0] {
                var matched = true
                for offset in 1..<needle.count where haystack[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }

    /// `2026-12-02T11:59:42.089+00:00` at `start` as seconds since 1970 (UTC offsets only, as the server writes).
    static func epoch(_ bytes: ArraySlice<UInt8>, at start: Int) -> Double? {
        guard bytes.endIndex - start >= 23 else { return nil }
        func number(_ offset: Int, _ length: Int) -> Int? {
            var value = 0
            for index in start + offset..<start + offset + length {
                let byte = bytes[index]
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
              let minute = number(14, 2), let second = number(17, 2), let millis = number(20, 3) else { return nil }
        // Days from the civil date (proleptic Gregorian).
        let y = month <= 2 ? year - 1 : year
        let era = y / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Double(days * 86_400 + hour * 3_600 + minute * 60 + second) + Double(millis) / 1000
    }
}
