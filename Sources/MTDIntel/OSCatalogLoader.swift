import Foundation
import MTDCore
import Yams

/// Reads the OS catalog's sources: endoflife.date product pages (YAML front matter) and release
/// data, the SOFA iOS feed, and the CISA KEV catalog.
public struct OSCatalogLoader {
    public var catalog = OSCatalog()

    public init() {}

    private struct EndOfLifePage: Decodable {
        struct Release: Decodable {
            var releaseCycle: String
            var releaseDate: String?
            var eol: String?
            var apiVersion: String?
            var latest: String?
            var latestReleaseDate: String?
        }

        var releases: [Release]
    }

    private struct ReleaseData: Decodable {
        struct Version: Decodable {
            var name: String
            var date: String?
        }

        var versions: [String: Version]
    }

    private struct SOFAFeed: Decodable {
        struct OSVersionEntry: Decodable {
            var OSVersion: String
            var SecurityReleases: [SecurityRelease]
        }

        struct SecurityRelease: Decodable {
            var ProductVersion: String
            var ReleaseDate: String?
            var ActivelyExploitedCVEs: [String]?
            var SupportedDevices: [String]?
        }

        struct Device: Decodable {
            var MarketingName: String?
        }

        var OSVersions: [OSVersionEntry]
        var Devices: [String: Device]?
    }

    private struct KEVCatalog: Decodable {
        struct Vulnerability: Decodable {
            var cveID: String
            var vendorProject: String
            var product: String
            var vulnerabilityName: String?
            var dateAdded: String
        }

        var vulnerabilities: [Vulnerability]
    }

    /// endoflife.date `products/ios.md` or `products/android.md`.
    public mutating func addEndOfLifePage(_ text: String, platform: Platform, file: String) throws(IntelligenceError) {
        let parts = text.components(separatedBy: "\n---")
        guard text.hasPrefix("---"), parts.count >= 2 else {
            throw IntelligenceError(file: file, message: "expected YAML front matter between --- lines")
        }
        let frontMatter = String(parts[0].dropFirst(3))
        let page: EndOfLifePage
        do {
            page = try YAMLDecoder().decode(EndOfLifePage.self, from: frontMatter)
        } catch {
            throw IntelligenceError(file: file, message: "front matter: \(DocumentErrorText.describe(error))")
        }
        for release in page.releases {
            let cycle = OSCatalog.Cycle(
                name: release.releaseCycle,
                releaseDay: release.releaseDate.flatMap { Timestamp.day($0) },
                endOfLifeDay: release.eol.flatMap { Timestamp.day($0) },
                apiLevel: release.apiVersion.flatMap { Int($0.prefix(while: \.isNumber)) })
            switch platform {
            case .ios:
                if let major = OSVersion(release.releaseCycle)?.major { catalog.iosCycles[major] = cycle }
            case .android:
                catalog.androidCycles[release.releaseCycle] = cycle
            }
        }
    }

    /// endoflife.date `release-data/ios.json`: every point release with its date.
    public mutating func addIOSReleaseData(_ data: Data, file: String) throws(IntelligenceError) {
        let releases: ReleaseData
        do {
            releases = try JSONDecoder().decode(ReleaseData.self, from: data)
        } catch {
            throw IntelligenceError(file: file, message: DocumentErrorText.describe(error))
        }
        for version in releases.versions.values {
            guard let parsed = OSVersion(version.name), let day = version.date.flatMap({ Timestamp.day($0) }) else { continue }
            upsertIOSRelease(name: version.name, version: parsed, day: day, exploited: nil, models: nil)
        }
    }

    /// SOFA `v2/ios_data_feed.json`: security releases, their exploited CVEs and supported models.
    public mutating func addSOFAFeed(_ data: Data, file: String) throws(IntelligenceError) {
        let feed: SOFAFeed
        do {
            feed = try JSONDecoder().decode(SOFAFeed.self, from: data)
        } catch {
            throw IntelligenceError(file: file, message: DocumentErrorText.describe(error))
        }
        for entry in feed.OSVersions {
            for release in entry.SecurityReleases {
                guard let parsed = OSVersion(release.ProductVersion), let day = release.ReleaseDate.flatMap({ Timestamp.day($0) }) else { continue }
                upsertIOSRelease(
                    name: release.ProductVersion, version: parsed, day: day, exploited: release.ActivelyExploitedCVEs ?? [],
                    models: Set(release.SupportedDevices ?? []))
            }
        }
        for (model, device) in feed.Devices ?? [:] {
            if let name = device.MarketingName { catalog.modelNames[model] = name }
        }
    }

    /// CISA `known_exploited_vulnerabilities.json`.
    public mutating func addKnownExploited(_ data: Data, file: String) throws(IntelligenceError) {
        let kev: KEVCatalog
        do {
            kev = try JSONDecoder().decode(KEVCatalog.self, from: data)
        } catch {
            throw IntelligenceError(file: file, message: DocumentErrorText.describe(error))
        }
        for vulnerability in kev.vulnerabilities {
            guard let day = Timestamp.day(vulnerability.dateAdded) else { continue }
            let entry = OSCatalog.KnownExploited(
                cve: vulnerability.cveID, vendor: vulnerability.vendorProject, product: vulnerability.product,
                name: vulnerability.vulnerabilityName ?? vulnerability.product, dayAdded: day)
            catalog.knownExploited[vulnerability.cveID] = entry
            let product = vulnerability.product.lowercased()
            if vulnerability.vendorProject == "Android" || (vulnerability.vendorProject == "Google" && product.contains("android")) {
                catalog.androidKnownExploited.append(entry)
            }
        }
        catalog.androidKnownExploited.sort { $0.dayAdded < $1.dayAdded }
    }

    private mutating func upsertIOSRelease(name: String, version: OSVersion, day: Int, exploited: [String]?, models: Set<String>?) {
        var releases = catalog.iosReleases[version.major] ?? []
        if let index = releases.firstIndex(where: { $0.version == version }) {
            if let exploited { releases[index].activelyExploitedCVEs = exploited }
            if let models { releases[index].supportedModels = models }
        } else {
            releases.append(OSCatalog.Release(
                name: name, version: version, day: day, activelyExploitedCVEs: exploited ?? [], supportedModels: models ?? []))
            releases.sort { $0.version < $1.version }
        }
        catalog.iosReleases[version.major] = releases
    }
}
