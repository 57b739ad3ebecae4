import Yams

/// AssoEchap's stalkerware-indicators `ioc.yaml` and `watchware.yaml`: one entry per app family with
/// package names, signing certificates (SHA-1), iOS bundle ids, vendor websites and C2 hosts.
struct StalkerwareCatalog {
    struct App: Decodable {
        var name: String
        var names: [String]?
        var type: String?
        var packages: [String]?
        var certificates: [String]?
        var websites: [String]?
        var c2: C2?
        var ios_bundles: [String]?
        var distribution: [String]?
    }

    struct C2: Decodable {
        var domains: [String]?
        var ips: [String]?
    }

    var apps: [App]

    init(yaml: String, file: String) throws(IntelligenceError) {
        do {
            apps = try YAMLDecoder().decode([App].self, from: yaml)
        } catch {
            throw IntelligenceError(file: file, message: "not a stalkerware catalog (list of {name, packages, certificates, c2}): \(DocumentErrorText.describe(error))")
        }
    }
}
