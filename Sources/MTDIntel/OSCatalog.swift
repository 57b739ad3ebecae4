import MTDCore

/// OS release knowledge: support windows from endoflife.date, iOS point releases with their dates,
/// the SOFA feed's actively exploited CVEs and supported models, and CISA's Known Exploited
/// Vulnerabilities. Every answer takes the evaluation day, so results are reproducible: releases
/// published after that day do not exist yet.
public struct OSCatalog: Sendable {
    public struct Cycle: Sendable, Equatable {
        public var name: String
        public var releaseDay: Int?
        /// End of security support; nil means still supported.
        public var endOfLifeDay: Int?
        public var apiLevel: Int?
    }

    public struct Release: Sendable, Equatable {
        public var name: String
        public var version: OSVersion
        public var day: Int
        public var activelyExploitedCVEs: [String]
        /// Model identifiers the release installs on; empty when unknown.
        public var supportedModels: Set<String>
    }

    public struct KnownExploited: Sendable, Equatable {
        public var cve: String
        public var vendor: String
        public var product: String
        public var name: String
        public var dayAdded: Int
    }

    var iosCycles: [Int: Cycle] = [:]
    /// Per major, ascending by version.
    var iosReleases: [Int: [Release]] = [:]
    var androidCycles: [String: Cycle] = [:]
    var knownExploited: [String: KnownExploited] = [:]
    /// Android-related KEV entries, ascending by day added.
    var androidKnownExploited: [KnownExploited] = []
    var modelNames: [String: String] = [:]

    public init() {}

    public var iosReleaseCount: Int { iosReleases.values.reduce(0) { $0 + $1.count } }
    public var iosCycleCount: Int { iosCycles.count }
    public var androidCycleCount: Int { androidCycles.count }
    public var knownExploitedCount: Int { knownExploited.count }

    public func knownExploited(_ cve: String) -> KnownExploited? { knownExploited[cve] }
    public func marketingName(ofModel model: String) -> String? { modelNames[model] }

    /// What the catalog knows about one device's OS on one day.
    public func assess(platform: Platform, version: String, model: String?, asOfDay: Int) -> OSAssessment? {
        guard let parsed = OSVersion(version) else { return nil }
        switch platform {
        case .ios: return assessIOS(parsed, model: model, asOfDay: asOfDay)
        case .android: return assessAndroid(parsed, asOfDay: asOfDay)
        }
    }

    private func assessIOS(_ version: OSVersion, model: String?, asOfDay: Int) -> OSAssessment? {
        guard let cycle = iosCycles[version.major] else { return nil }
        if let releaseDay = cycle.releaseDay, releaseDay > asOfDay { return nil }
        let forModel: (Release) -> Bool = { release in
            guard let model, !release.supportedModels.isEmpty else { return true }
            return release.supportedModels.contains(model)
        }
        let published = (iosReleases[version.major] ?? []).filter { $0.day <= asOfDay && forModel($0) }
        let newer = published.filter { $0.version > version }
        let newest = published.last
        var exploited: [String] = []
        for release in newer {
            for cve in release.activelyExploitedCVEs where !exploited.contains(cve) { exploited.append(cve) }
        }
        // Only releases that list their devices (SOFA) can say a model is supported.
        let newestMajorForModel = model.flatMap { model in
            iosReleases.keys.sorted().last { major in
                (iosReleases[major] ?? []).contains { $0.day <= asOfDay && $0.supportedModels.contains(model) }
            }
        }
        return OSAssessment(
            platform: .ios, cycle: cycle.name,
            supported: cycle.endOfLifeDay.map { $0 > asOfDay } ?? true,
            endOfLifeDay: cycle.endOfLifeDay,
            newestInCycle: newest?.name,
            newestInCycleDay: newest?.day,
            daysSinceFirstNewerRelease: newer.first.map { asOfDay - $0.day },
            firstNewerRelease: newer.first?.name,
            exploitedCVEsFixedLater: exploited,
            newestMajorForModel: newestMajorForModel)
    }

    private func assessAndroid(_ version: OSVersion, asOfDay: Int) -> OSAssessment? {
        guard let cycle = androidCycle(version) else { return nil }
        if let releaseDay = cycle.releaseDay, releaseDay > asOfDay { return nil }
        return OSAssessment(
            platform: .android, cycle: cycle.name,
            supported: cycle.endOfLifeDay.map { $0 > asOfDay } ?? true,
            endOfLifeDay: cycle.endOfLifeDay,
            newestInCycle: nil, newestInCycleDay: nil, daysSinceFirstNewerRelease: nil, firstNewerRelease: nil,
            exploitedCVEsFixedLater: [], newestMajorForModel: nil)
    }

    /// `12.1` is its own cycle (12L); `7.0` and `14` name theirs with and without the minor.
    func androidCycle(_ version: OSVersion) -> Cycle? {
        androidCycles["\(version.major).\(version.minor)"] ?? androidCycles["\(version.major)"]
    }

    /// Every release cycle the catalog knows, iOS then Android, oldest first.
    public var allCycles: [(platform: Platform, cycle: Cycle)] {
        iosCycles.keys.sorted().compactMap { major in iosCycles[major].map { (Platform.ios, $0) } }
            + androidCycles.values.sorted { ($0.releaseDay ?? 0, $0.name) < ($1.releaseDay ?? 0, $1.name) }.map { (Platform.android, $0) }
    }

    /// The iOS releases of one major that were out on `asOfDay`, oldest first.
    public func iosReleases(major: Int, asOfDay: Int) -> [Release] {
        (iosReleases[major] ?? []).filter { $0.day <= asOfDay }
    }

    /// The SDK level of the Android release a version string names.
    public func androidAPILevel(forVersion text: String) -> Int? {
        OSVersion(text).flatMap { androidCycle($0)?.apiLevel }
    }

    /// Android CVEs that CISA lists as exploited and added after the device's patch level, up to the
    /// evaluation day. No public machine-readable bulletin index maps CVEs to patch levels, so this
    /// is the closest honest approximation: these are the exploited bugs a newer patch level addresses.
    public func androidExploitedAfter(patchDay: Int, asOfDay: Int) -> [KnownExploited] {
        androidKnownExploited.filter { $0.dayAdded > patchDay && $0.dayAdded <= asOfDay }
    }
}

/// The answers of `OSCatalog.assess`.
public struct OSAssessment: Sendable, Equatable {
    public var platform: Platform
    /// The release cycle (major, or major.minor for Android 12L-style cycles).
    public var cycle: String
    /// Does this major still get security fixes?
    public var supported: Bool
    public var endOfLifeDay: Int?
    /// Newest published release of this major (for the model, when known).
    public var newestInCycle: String?
    public var newestInCycleDay: Int?
    /// How long a newer release of this major has been out, in days; nil when the device runs the newest.
    public var daysSinceFirstNewerRelease: Int?
    public var firstNewerRelease: String?
    /// Actively exploited CVEs that newer releases of this major fix.
    public var exploitedCVEsFixedLater: [String]
    /// The newest major that supports the device model (iOS, model known).
    public var newestMajorForModel: Int?
}
