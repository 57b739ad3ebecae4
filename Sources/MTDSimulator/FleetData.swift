import Foundation
import MTDCore
import MTDIntel

/// The real public data a simulated fleet is built from: iOS releases (endoflife.date), stalkerware
/// samples (Echap's stalkerware-indicators), phishing hosts (blocklistproject), all as shipped with
/// OpenMTD; plus a short list of well-known benign apps and hosts.
public struct FleetData: Sendable {
    /// iOS versions released by the simulation day, newest first.
    public var iosVersions: [String]
    public var androidVersions: [String]
    public var stalkerwarePackages: [String]
    public var phishingHosts: [String]

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

    public init(iosVersions: [String], androidVersions: [String], stalkerwarePackages: [String], phishingHosts: [String]) {
        self.iosVersions = iosVersions
        self.androidVersions = androidVersions
        self.stalkerwarePackages = stalkerwarePackages
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
        var packages: [String] = []
        var seen = Set<String>()
        for line in samples.split(whereSeparator: \.isNewline).dropFirst() {
            let columns = line.split(separator: ",", omittingEmptySubsequences: false)
            guard columns.count > 1 else { continue }
            let package = String(columns[1]).trimmingCharacters(in: .whitespaces)
            if !package.isEmpty, package.contains("."), seen.insert(package).inserted { packages.append(package) }
        }
        let phishing = try String(contentsOf: root.appendingPathComponent("blocklistproject/phishing-nl.txt"), encoding: .utf8)
            .split(whereSeparator: \.isNewline).lazy.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }.prefix(20_000)
        guard !ios.isEmpty, !packages.isEmpty else { throw FleetError.data("the shipped OS releases or stalkerware samples are empty") }
        return FleetData(iosVersions: ios, androidVersions: ["16", "15", "14", "13", "12", "11"], stalkerwarePackages: packages, phishingHosts: Array(phishing))
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
