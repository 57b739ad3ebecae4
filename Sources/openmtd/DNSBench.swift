import Foundation
import MTDCore
import MTDDetection

/// `openmtd bench dns`: the resolver's pure per-query work on one core. A mix of names (90 % benign,
/// deep and shallow, 10 % under shipped indicators: phishing, stalkerware, a shared-hosting
/// customer) decided against the shipped intelligence with the default policy, and the codec's
/// part: decoding a query and writing its answer.
enum DNSBench {
    struct Figures: Codable {
        var names: Int
        var blocked: Int
        var decisionNanoseconds: Double
        var codecNanoseconds: Double
    }

    static func run(engine: DetectionEngine, names count: Int, rounds: Int) -> Figures {
        var random = SystemRandomNumberGenerator()
        let benign = ["example.com", "apple.com", "icloud.com", "googleapis.com", "microsoft.com", "office365.com", "whatsapp.net", "cdn.example.net",
                      "github.com", "weebly.com", "s3.amazonaws.com", "akamaiedge.net"]
        let flagged = ["000.9.009.09.ekurbani.com", "1topspy.com", "21457452org.weebly.com"]
        let labels = ["www", "api", "img", "login", "m", "static", "edge-7", "eu-west-1", "a1b2c3"]
        let hosts: [String] = (0..<count).map { position in
            let base = position % 10 == 0 ? flagged[position / 10 % flagged.count] : benign.randomElement(using: &random) ?? "example.com"
            let depth = Int.random(in: 0...2, using: &random)
            return ((0..<depth).map { _ in labels.randomElement(using: &random) ?? "www" } + [base]).joined(separator: ".")
        }
        var bestDecision = Double.infinity
        var blocked = 0
        for _ in 0..<max(rounds, 1) {
            let start = DispatchTime.now()
            var found = 0
            for host in hosts where engine.dnsDecision(for: host).verdict == .block { found += 1 }
            bestDecision = min(bestDecision, Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds))
            blocked = found
        }
        let queries: [[UInt8]] = hosts.prefix(10_000).enumerated().compactMap { index, host in
            DNSName(host).map { DNSMessage.query(id: UInt16(truncatingIfNeeded: index), name: $0, type: .a).encoded() }
        }
        var bestCodec = Double.infinity
        var bytes = 0
        for _ in 0..<max(rounds, 1) {
            let start = DispatchTime.now()
            for wire in queries {
                guard let query = try? DNSMessage(decoding: wire) else { continue }
                var answer = query.response(code: .noError)
                answer.answers = [DNSRecord(name: query.questions[0].name, type: .a, ttl: 300, data: [192, 0, 2, 1])]
                bytes &+= answer.encoded(maxSize: 1_232).count
            }
            bestCodec = min(bestCodec, Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds))
        }
        withExtendedLifetime(bytes) {}
        return Figures(names: count, blocked: blocked, decisionNanoseconds: bestDecision / Double(max(count, 1)),
                       codecNanoseconds: bestCodec / Double(max(queries.count, 1)))
    }
}
