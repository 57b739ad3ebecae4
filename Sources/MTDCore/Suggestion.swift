/// "Did you mean" for names typed by people: tag names, classifications, policy fields.
public enum Suggestion {
    /// The candidate closest to `text` by edit distance (case-insensitive), if it is close enough to be a typo.
    public static func closest(to text: String, in candidates: [String]) -> String? {
        let needle = Array(text.lowercased())
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(needle, Array(candidate.lowercased()))
            if let current = best, current.1 <= distance { continue }
            best = (candidate, distance)
        }
        guard let (candidate, distance) = best else { return nil }
        let limit = max(2, min(needle.count, candidate.count) / 3)
        return distance <= limit ? candidate : nil
    }

    public static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
