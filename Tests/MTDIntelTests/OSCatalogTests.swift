import MTDCore
import MTDIntel
import Testing

/// Figures pinned to the shipped snapshots (endoflife.date and SOFA, 2026-08) and a fixed day.
@Suite struct OSCatalogTests {
    let day = Timestamp.day("2026-11-20") ?? 0

    @Test func currentIOSIsSupportedAndNewest() throws {
        let catalog = try #require(Shipped.intelligence).os
        let assessment = try #require(catalog.assess(platform: .ios, version: "26.6.1", model: nil, asOfDay: day))
        #expect(assessment.supported)
        #expect(assessment.newestInCycle == "26.6.1")
        #expect(assessment.daysSinceFirstNewerRelease == nil)
        #expect(assessment.exploitedCVEsFixedLater.isEmpty)
    }

    @Test func olderPointReleaseKnowsHowLongAFixHasBeenOutAndWhichExploitedCVEsItFixes() throws {
        let catalog = try #require(Shipped.intelligence).os
        let assessment = try #require(catalog.assess(platform: .ios, version: "18.6", model: nil, asOfDay: day))
        #expect(assessment.supported)
        #expect(assessment.firstNewerRelease == "18.6.1")
        #expect((assessment.daysSinceFirstNewerRelease ?? 0) > 30)
        #expect(assessment.exploitedCVEsFixedLater.contains("CVE-2025-43300"))
        #expect(!assessment.exploitedCVEsFixedLater.contains("CVE-2025-31277"), "fixed by 18.6 itself")
        #expect(catalog.knownExploited("CVE-2025-43300")?.vendor == "Apple")
    }

    @Test func asOfDateHidesReleasesFromTheFuture() throws {
        let catalog = try #require(Shipped.intelligence).os
        let early = try #require(Timestamp.day("2025-08-01"))
        let assessment = try #require(catalog.assess(platform: .ios, version: "18.6", model: nil, asOfDay: early))
        #expect(assessment.newestInCycle == "18.6")
        #expect(assessment.daysSinceFirstNewerRelease == nil)
    }

    @Test func endOfLifeMajorsAreUnsupported() throws {
        let catalog = try #require(Shipped.intelligence).os
        #expect(catalog.assess(platform: .ios, version: "17.5", model: nil, asOfDay: day)?.supported == false)
        #expect(catalog.assess(platform: .android, version: "12", model: nil, asOfDay: day)?.supported == false)
        #expect(catalog.assess(platform: .android, version: "16", model: nil, asOfDay: day)?.supported == true)
        #expect(catalog.assess(platform: .android, version: "12.1", model: nil, asOfDay: day)?.cycle == "12.1")
        #expect(catalog.androidAPILevel(forVersion: "7.1.2") == 25)
        #expect(catalog.androidAPILevel(forVersion: "4.1") == 16)
    }

    @Test func modelLimitsTheNewestRelease() throws {
        let catalog = try #require(Shipped.intelligence).os
        // iPhone XS (iPhone11,2) cannot run iOS 26; it supports 18 as its newest major.
        let assessment = try #require(catalog.assess(platform: .ios, version: "18.7.1", model: "iPhone11,2", asOfDay: day))
        #expect(assessment.newestMajorForModel == 18)
        let modern = try #require(catalog.assess(platform: .ios, version: "18.7.1", model: "iPhone16,1", asOfDay: day))
        #expect(modern.newestMajorForModel == 26)
    }

    @Test func androidExploitedCVEsAfterAPatchLevel() throws {
        let catalog = try #require(Shipped.intelligence).os
        let old = catalog.androidExploitedAfter(patchDay: try #require(Timestamp.day("2023-01-01")), asOfDay: day)
        #expect(!old.isEmpty)
        #expect(old.allSatisfy { $0.vendor == "Android" || $0.product.lowercased().contains("android") })
    }

    @Test func versionsCompareNumerically() {
        #expect(OSVersion("17.10")! > OSVersion("17.9")!)
        #expect(OSVersion("18")! == OSVersion("18.0.0")!)
        #expect(OSVersion("14 beta")?.major == 14)
        #expect(OSVersion("beta") == nil)
    }
}
