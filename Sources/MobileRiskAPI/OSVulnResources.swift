import Fluent
import FluentSQL
import Foundation
import MTDCore
import MTDIntel
import MTDStore
import SQLKit
import Vapor

/// `GET /mra/api/v2/os-vulns/…`: what the shipped OS catalog knows about exploited vulnerabilities.
/// iOS from the releases that fix actively exploited CVEs (SOFA); Android from CISA's Known Exploited
/// Vulnerabilities added after a security patch level (no public machine-readable index maps Android
/// CVEs to patch levels, so this is the exploited subset, not every CVE of a bulletin); KEV for a
/// CVE's details. Answers are as of today (the catalog's releases published by then).
struct OSVulnController: Sendable {
    let api: MobileRiskAPI

    struct Vulnerability: Content {
        var name: String
        var known_exploited: Bool
        var vendor: String?
        var product: String?
        var description: String?
        var kev_date_added: String?
        /// iOS: the first release that fixes it.
        var fixed_in: String?
        /// `/os-vulns/cve` only: every iOS release that fixes it.
        var ios_fixed_in: [String]?
    }

    struct AndroidAnswer: Content {
        var aspl: String
        var count: Int
        var vulnerabilities: [Vulnerability]
    }

    struct IOSAnswer: Content {
        var version: String
        var cycle: String?
        var supported: Bool?
        var latest_version_in_cycle: String?
        var count: Int
        var vulnerabilities: [Vulnerability]
    }

    struct OSVersionEntry: Content {
        var platform: String
        var version: String
        var released: String?
        var end_of_life: String?
        var supported: Bool
        var latest_version: String?
    }

    struct OSVersions: Content {
        var count: Int
        var os_versions: [OSVersionEntry]
    }

    var today: Int { Timestamp.day(of: api.clock()) }

    func principal(_ req: Request) throws -> MRAPrincipal {
        let principal = try req.mraPrincipal
        try principal.require(.osVulns)
        return principal
    }

    @Sendable func android(_ req: Request) async throws -> AndroidAnswer {
        _ = try principal(req)
        guard let aspl = req.query[String.self, at: "aspl"], !aspl.isEmpty else {
            throw MRAError.invalidRequest("aspl is required: a security patch level such as 2026-01-01", parameter: "aspl")
        }
        guard aspl.count <= 10, let day = Timestamp.day(aspl.count == 7 ? aspl + "-01" : aspl) else {
            throw MRAError.invalidRequest("aspl must be a security patch level such as 2026-01-01", parameter: "aspl")
        }
        try Self.checkSeverity(req)
        let catalog = api.intelligence().os
        let found = catalog.androidExploitedAfter(patchDay: day, asOfDay: today).map(Self.vulnerability)
        return AndroidAnswer(aspl: Timestamp.string(fromDay: day), count: found.count, vulnerabilities: found)
    }

    @Sendable func ios(_ req: Request) async throws -> IOSAnswer {
        _ = try principal(req)
        guard let version = req.query[String.self, at: "version"], !version.isEmpty else {
            throw MRAError.invalidRequest("version is required: an iOS version such as 17.4.1", parameter: "version")
        }
        guard version.count <= 20, OSVersion(version) != nil else {
            throw MRAError.invalidRequest("version must be an iOS version such as 17.4.1", parameter: "version")
        }
        let catalog = api.intelligence().os
        guard let assessment = catalog.assess(platform: .ios, version: version, model: nil, asOfDay: today) else {
            return IOSAnswer(version: version, count: 0, vulnerabilities: [])
        }
        let fixes = Self.iosFixes(catalog, asOfDay: today)
        let found = assessment.exploitedCVEsFixedLater.map { cve in
            var entry = catalog.knownExploited(cve).map(Self.vulnerability) ?? Vulnerability(name: cve, known_exploited: true)
            entry.fixed_in = fixes[cve]?.first
            return entry
        }
        return IOSAnswer(
            version: version, cycle: assessment.cycle, supported: assessment.supported, latest_version_in_cycle: assessment.newestInCycle,
            count: found.count, vulnerabilities: found)
    }

    @Sendable func cve(_ req: Request) async throws -> Vulnerability {
        _ = try principal(req)
        let name = try Self.cveName(req)
        let catalog = api.intelligence().os
        let fixes = Self.iosFixes(catalog, asOfDay: today)[name] ?? []
        let known = catalog.knownExploited(name)
        guard known != nil || !fixes.isEmpty else { throw MRAError.notFound("\(name) is not in the OS catalog (exploited iOS fixes and CISA KEV)") }
        var answer = known.map(Self.vulnerability) ?? Vulnerability(name: name, known_exploited: true)
        answer.ios_fixed_in = fixes
        return answer
    }

    /// Activated devices of the enterprise that the CVE still reaches: iOS below the first release of
    /// their major that fixes it; Android whose patch level predates its addition to KEV.
    @Sendable func devices(_ req: Request) async throws -> MRADevicePage {
        let principal = try principal(req)
        let name = try Self.cveName(req)
        let catalog = api.intelligence().os
        let day = today
        let iosFixed = Self.iosFixes(catalog, asOfDay: day)[name] ?? []
        let known = catalog.knownExploited(name)
        guard known != nil || !iosFixed.isEmpty else { throw MRAError.notFound("\(name) is not in the OS catalog (exploited iOS fixes and CISA KEV)") }
        guard let sql = req.db as? any SQLDatabase else { throw MRAError.notFound("devices") }
        let rows = try await sql.select().column("*").from(DeviceModel.schema)
            .where("enterprise_id", .equal, SQLBind(principal.enterpriseID))
            .where("activation_status", .equal, SQLBind(ActivationStatus.activated.rawValue))
            .orderBy("listing_id").all()
        var exposed: [MRADevice] = []
        for row in rows {
            let device = try row.decode(fluentModel: DeviceModel.self)
            let reached: Bool
            switch Platform(rawValue: device.platform) {
            case .ios:
                reached = device.osVersion.flatMap { catalog.assess(platform: .ios, version: $0, model: device.model, asOfDay: day) }?
                    .exploitedCVEsFixedLater.contains(name) ?? false
            case .android:
                reached = device.securityPatchLevel.flatMap { Timestamp.day($0) }
                    .map { patch in catalog.androidExploitedAfter(patchDay: patch, asOfDay: day).contains { $0.cve == name } } ?? false
            case nil:
                reached = false
            }
            if reached { exposed.append(try api.device(row)) }
        }
        return MRADevicePage(count: exposed.count, devices: exposed)
    }

    @Sendable func osVersions(_ req: Request) async throws -> OSVersions {
        _ = try principal(req)
        let catalog = api.intelligence().os
        let day = today
        let entries = catalog.allCycles.map { platform, cycle in
            OSVersionEntry(
                platform: platform.rawValue, version: cycle.name, released: cycle.releaseDay.map(Timestamp.string(fromDay:)),
                end_of_life: cycle.endOfLifeDay.map(Timestamp.string(fromDay:)), supported: cycle.endOfLifeDay.map { $0 > day } ?? true,
                latest_version: platform == .ios ? Int(cycle.name).flatMap { catalog.iosReleases(major: $0, asOfDay: day).last?.name } : nil)
        }
        return OSVersions(count: entries.count, os_versions: entries)
    }

    static func vulnerability(_ entry: OSCatalog.KnownExploited) -> Vulnerability {
        Vulnerability(
            name: entry.cve, known_exploited: true, vendor: entry.vendor, product: entry.product, description: entry.name,
            kev_date_added: Timestamp.string(fromDay: entry.dayAdded))
    }

    /// For each actively exploited CVE, the iOS releases (out by `asOfDay`) that fix it, oldest first.
    static func iosFixes(_ catalog: OSCatalog, asOfDay: Int) -> [String: [String]] {
        var fixes: [String: [String]] = [:]
        for (platform, cycle) in catalog.allCycles where platform == .ios {
            guard let major = Int(cycle.name) else { continue }
            for release in catalog.iosReleases(major: major, asOfDay: asOfDay) {
                for cve in release.activelyExploitedCVEs { fixes[cve, default: []].append(release.name) }
            }
        }
        return fixes
    }

    static func cveName(_ req: Request) throws -> String {
        guard let raw = req.query[String.self, at: "name"], !raw.isEmpty else {
            throw MRAError.invalidRequest("name is required: a CVE such as CVE-2024-23222", parameter: "name")
        }
        let name = raw.uppercased()
        let parts = name.split(separator: "-")
        guard name.count <= 24, parts.count == 3, parts[0] == "CVE", parts[1].count == 4, parts[1].allSatisfy(\.isNumber),
              (4...9).contains(parts[2].count), parts[2].allSatisfy(\.isNumber)
        else { throw MRAError.invalidRequest("name must be a CVE such as CVE-2024-23222", parameter: "name") }
        return name
    }

    /// `severity` (0 to 10) is Lookout's CVSS floor; the catalog has no scores, so it is checked and
    /// otherwise ignored: every entry here is known to be exploited.
    static func checkSeverity(_ req: Request) throws {
        guard let text = req.query[String.self, at: "severity"], !text.isEmpty else { return }
        guard text.count <= 5, let value = Double(text), value.isFinite, (0...10).contains(value) else {
            throw MRAError.invalidRequest("severity must be a number from 0 to 10", parameter: "severity")
        }
    }
}
