import Foundation
import Logging
import MTDCore

/// Loads the intelligence that ships with OpenMTD and whatever the admin imported on top.
public enum IntelligenceLoader {
    /// The folder of shipped intelligence inside the package's resources.
    public static var bundledDirectory: URL? {
        Bundle.module.url(forResource: "Data", withExtension: nil)
    }

    public static let manifestFileName = "manifest.json"

    /// Loads `directory` (the shipped data by default) plus the files listed in `importedDirectory`'s manifest.
    /// `progress` receives one line per file.
    public static func load(
        directory: URL? = nil, importedDirectory: URL? = nil, logger: Logger = Logger(label: "openmtd.intel"),
        progress: ((String) -> Void)? = nil
    ) throws(IntelligenceError) -> ThreatIntelligence {
        guard let root = directory ?? bundledDirectory else {
            throw IntelligenceError(file: "Data", message: "the shipped intelligence folder is missing from this build; reinstall or pass --intel-dir")
        }
        var builder = IntelligenceBuilder()
        let manifest = try readManifest(root.appendingPathComponent(manifestFileName))
        for entry in manifest.files {
            progress?("loading \(entry.file)")
            try builder.add(entry, data: try read(root, entry.file))
        }
        if let importedDirectory {
            let manifestURL = importedDirectory.appendingPathComponent(manifestFileName)
            if FileManager.default.fileExists(atPath: manifestURL.path) {
                for entry in try readManifest(manifestURL).files {
                    progress?("loading imported \(entry.file)")
                    do {
                        try builder.add(entry, data: try read(importedDirectory, entry.file))
                    } catch {
                        // A broken import must not take the shipped intelligence down with it.
                        logger.error("skipping imported intelligence", metadata: ["file": "\(entry.file)", "error": "\(error)"])
                    }
                }
            }
        }
        progress?("loading OS catalog")
        var os = OSCatalogLoader()
        try os.addEndOfLifePage(try text(root, "os/endoflife-ios.md"), platform: .ios, file: "os/endoflife-ios.md")
        try os.addEndOfLifePage(try text(root, "os/endoflife-android.md"), platform: .android, file: "os/endoflife-android.md")
        try os.addIOSReleaseData(try read(root, "os/endoflife-ios-releases.json"), file: "os/endoflife-ios-releases.json")
        try os.addSOFAFeed(try read(root, "os/sofa-ios-feed.json"), file: "os/sofa-ios-feed.json")
        try os.addKnownExploited(try read(root, "os/cisa-kev.json"), file: "os/cisa-kev.json")
        let psl = PublicSuffixList(listText: try text(root, "publicsuffix/public_suffix_list.dat"))
        let cloud = try CloudServiceCatalog(json: try read(root, "cloud-services.json"), file: "cloud-services.json")
        return builder.build(os: os.catalog, publicSuffixList: psl, cloudServices: cloud)
    }

    /// Just the shipped Public Suffix List.
    public static func bundledPublicSuffixList() -> PublicSuffixList? {
        guard let root = bundledDirectory, let text = try? text(root, "publicsuffix/public_suffix_list.dat") else { return nil }
        return PublicSuffixList(listText: text)
    }

    public static func readManifest(_ url: URL) throws(IntelligenceError) -> IntelligenceManifest {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw IntelligenceError(file: url.path, message: "cannot be read: \(error.localizedDescription)")
        }
        do {
            return try JSONDecoder().decode(IntelligenceManifest.self, from: data)
        } catch {
            throw IntelligenceError(file: url.path, message: DocumentErrorText.describe(error))
        }
    }

    static func read(_ root: URL, _ file: String) throws(IntelligenceError) -> Data {
        do {
            return try Data(contentsOf: root.appendingPathComponent(file))
        } catch {
            throw IntelligenceError(file: file, message: "cannot be read from \(root.path): \(error.localizedDescription)")
        }
    }

    static func text(_ root: URL, _ file: String) throws(IntelligenceError) -> String {
        guard let text = String(data: try read(root, file), encoding: .utf8) else {
            throw IntelligenceError(file: file, message: "not UTF-8 text")
        }
        return text
    }
}
