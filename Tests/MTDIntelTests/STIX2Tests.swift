import Foundation
@testable import MTDIntel
import MTDCore
import Testing

@Suite struct STIX2Tests {
    /// Every STIX2 bundle that ships (MVT indicators and Amnesty investigations), counted per pattern type.
    /// The expected figures are those published with the data (shared/data/SOURCES.md), with the two
    /// SHA-256 key spellings (81 `sha256` + 20 `'SHA-256'`) read as one type.
    @Test func everyShippedBundleParsesWithTheExpectedPatternCounts() throws {
        let intel = try #require(Shipped.intelligence)
        var totals: [String: Int] = [:]
        var bundles = 0
        for (source, stats) in zip(intel.sources, intel.sourceStats) where source.id.hasPrefix("stix2:") {
            bundles += 1
            #expect(stats.skipped == 0, "\(source.id) has unsupported patterns")
            for (type, count) in stats.patternTypes { totals[type, default: 0] += count }
        }
        #expect(bundles == 16)
        #expect(totals == [
            "domain-name:value": 5305, "process:name": 83, "file:hashes.sha256": 101, "email-addr:value": 65,
            "file:path": 58, "ipv4-addr:value": 45, "app:id": 25, "file:name": 15, "app:cert.sha256": 11,
            "android-property:name": 3, "configuration-profile:id": 2,
        ])
        #expect(totals.values.reduce(0, +) == 5713)
    }

    @Test func bothSHA256KeySpellingsMeanTheSame() {
        #expect(STIX2Bundle.parse(pattern: "[file:hashes.'SHA-256'='AB']")?.0 == "file:hashes.sha256")
        #expect(STIX2Bundle.parse(pattern: "[file:hashes.sha256='ab']")?.0 == "file:hashes.sha256")
        #expect(STIX2Bundle.parse(pattern: "[domain-name:value='it\\'s.example']")?.1 == "it's.example")
        #expect(STIX2Bundle.parse(pattern: "[domain-name:value='a.com' OR domain-name:value='b.com']") == nil)
        #expect(STIX2Bundle.parse(pattern: "domain-name:value='a.com'") == nil)
    }

    @Test func coronaHashesWithTheQuotedKeyAreMatchable() throws {
        let intel = try #require(Shipped.intelligence)
        let digest = try #require(HexDigest("05b5e4070b3b8a130b12ea96c5526b4615fcae121bb802b1a10c3a7a70f39901"))
        var matches: [IntelMatch] = []
        intel.forEachPackageHashMatch(digest) { matches.append($0) }
        #expect(matches.map(\.source.id) == ["stix2:coruna"])
        #expect(matches.first?.classification == .spyware)
    }

    @Test func indicatorsBelongToTheirMalwareFamily() throws {
        let intel = try #require(Shipped.intelligence)
        let match = try #require(intel.domainMatches("weather4free.com").first)
        #expect(match.source.id == "stix2:pegasus")
        #expect(match.label.isEmpty == false)
    }

    @Test func invalidBundlesAreRejectedWithTheFileName() {
        var builder = IntelligenceBuilder()
        let entry = IntelligenceFileEntry(file: "broken.stix2", format: .stix2, id: "x", name: "x", classification: .spyware)
        #expect(throws: IntelligenceError.self) { try builder.add(entry, data: Data("{\"type\":\"report\"}".utf8)) }
        do {
            try builder.add(entry, data: Data("not json".utf8))
        } catch {
            #expect(error.file == "broken.stix2")
        }
    }

    @Test func forensicIndicatorsMatch() throws {
        let intel = try #require(Shipped.intelligence)
        #expect(intel.processMatches("bh").first?.source.id == "stix2:pegasus")
        #expect(intel.processMatches("/usr/libexec/bh").first?.source.id == "stix2:pegasus")
        #expect(intel.processMatches("SpringBoard").isEmpty)
        #expect(intel.filePathMatches("/private/var/tmp/hooker").map(\.source.id).contains("stix2:intellexa-predator"))
        #expect(intel.filePathMatches("/private/var/mobile/Library").isEmpty)
        #expect(intel.profileMatches("76dab334-7e17-475d-a5d6-0794eb5818a5").isEmpty == false)
        #expect(intel.androidPropertyMatches("sys.brand.note").first?.source.id == "stix2:android-campaign")
    }
}
