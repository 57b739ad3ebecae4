import MTDIntel

/// The shipped intelligence, loaded once per test process.
enum Shipped {
    static let intelligence: ThreatIntelligence? = try? IntelligenceLoader.load()
}
