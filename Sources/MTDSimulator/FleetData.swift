import Foundation
import MTDCore
import MTDIntel

/// The real public data a simulated fleet is built from: iOS releases (endoflife.date), stalkerware
/// samples (Echap's stalkerware-indicators), phishing hosts (blocklistproject), all as shipped with
/// OpenMTD; plus a short list of well-known benign apps and hosts.
public struct FleetData: Sendable {
    /// iOS versions released by the simulation day, newest first.
    public var iosVersions: [String]
    /// The newest release of each of the two newest iOS majors: what an up-to-date iPhone runs.
    public var iosCurrent: [String] {
        var seen: [String: String] = [:]
        for version in iosVersions {
            let major = String(version.split(separator: ".").first ?? "")
            if seen[major] == nil { seen[major] = version }
        }
        return seen.sorted { (Int($0.key) ?? 0) > (Int($1.key) ?? 0) }.prefix(2).map(\.value)
    }
    public var androidVersions: [String]
    public var stalkerwarePackages: [String] { stalkerwareSamples.map(\.package) }
    /// Real samples: package name, the APK's SHA-256 and its signing certificate's SHA-1.
    public var stalkerwareSamples: [StalkerwareSample]
    public var phishingHosts: [String]

    public struct StalkerwareSample: Sendable, Equatable {
        public var package: String
        public var sha256: String
        public var certificateSha1: String

        /// The app as a device with this sample installed reports it.
        public var app: InstalledApp {
            InstalledApp(id: package, source: .sideloaded, signerSha1: HexDigest(certificateSha1), sha256: HexDigest(sha256))
        }
    }

    public static let benignAndroidApps = [
        "com.whatsapp", "com.google.android.gm", "com.google.android.apps.maps", "com.microsoft.teams", "com.microsoft.office.outlook",
        "com.spotify.music", "com.android.chrome", "com.google.android.youtube", "com.slack", "com.zoom.videomeetings", "org.mozilla.firefox",
        "com.linkedin.android", "com.microsoft.office.word", "com.google.android.apps.docs", "com.airwatch.androidagent",
    ]
    public static let benignIOSApps = [
        "net.whatsapp.WhatsApp", "com.google.Gmail", "com.google.Maps", "com.microsoft.skype.teams", "com.microsoft.Office.Outlook",
        "com.spotify.client", "com.google.chrome.ios", "com.google.ios.youtube", "com.tinyspeck.chatlyio", "us.zoom.videomeetings",
        "com.linkedin.LinkedIn", "com.microsoft.Office.Word", "com.air-watch.agent",
    ]
    public static let benignHosts = [
        "www.google.com", "mail.google.com", "outlook.office365.com", "teams.microsoft.com", "g.whatsapp.net", "api.spotify.com",
        "www.linkedin.com", "zoom.us", "slack.com", "www.apple.com", "login.microsoftonline.com", "www.wikipedia.org",
    ]
    public static let androidModels = ["Pixel 9", "Pixel 8a", "SM-S921B", "SM-A556B", "moto g84 5G"]
    public static let iosModels = ["iPhone17,1", "iPhone16,2", "iPhone15,4", "iPhone14,5"]

    public init(iosVersions: [String], androidVersions: [String], stalkerwareSamples: [StalkerwareSample], phishingHosts: [String]) {
        self.iosVersions = iosVersions
        self.androidVersions = androidVersions
        self.stalkerwareSamples = stalkerwareSamples
        self.phishingHosts = phishingHosts
    }

    /// Reads the shipped data files; `asOfDay` (days since 1970) drops releases from the future.
    public static func load(asOfDay: Int) throws -> FleetData {
        guard let root = IntelligenceLoader.bundledDirectory else { throw FleetError.data("the shipped intelligence folder is missing from this build") }
        struct Releases: Decodable {
            struct Version: Decodable { var name: String; var date: String? }
            var versions: [String: Version]
        }
        let releasesURL = root.appendingPathComponent("os/endoflife-ios-releases.json")
        let releases = try JSONDecoder().decode(Releases.self, from: try Data(contentsOf: releasesURL))
        let ios = releases.versions.values
            .compactMap { version -> (String, Int)? in
                guard let date = version.date, let day = Timestamp.day(date), day <= asOfDay else { return nil }
                return (version.name, day)
            }
            .sorted { $0.1 > $1.1 }.map(\.0)
        let samples = try String(contentsOf: root.appendingPathComponent("stalkerware/samples.csv"), encoding: .utf8)
        var packages: [StalkerwareSample] = []
        var seen = Set<String>()
        for line in samples.split(whereSeparator: \.isNewline).dropFirst() {
            let columns = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard columns.count > 2, columns[1].contains("."), HexDigest(columns[0]) != nil, HexDigest(columns[2]) != nil else { continue }
            if seen.insert(columns[1]).inserted { packages.append(StalkerwareSample(package: columns[1], sha256: columns[0], certificateSha1: columns[2])) }
        }
        let phishing = try String(contentsOf: root.appendingPathComponent("blocklistproject/phishing-nl.txt"), encoding: .utf8)
            .split(whereSeparator: \.isNewline).lazy.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }.prefix(20_000)
        guard !ios.isEmpty, !packages.isEmpty else { throw FleetError.data("the shipped OS releases or stalkerware samples are empty") }
        return FleetData(iosVersions: ios, androidVersions: ["16", "15", "14", "13", "12", "11"], stalkerwareSamples: packages, phishingHosts: Array(phishing))
    }
}

public enum FleetError: Error, Sendable, CustomStringConvertible {
    case data(String)
    case setup(String)
    case scenario(file: String, field: String, message: String)

    public var description: String {
        switch self {
        case .data(let message): "simulation data: \(message)"
        case .setup(let message): message
        case .scenario(let file, let field, let message): "\(file): \(field): \(message)"
        }
    }
}
