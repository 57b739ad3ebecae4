import Foundation
import MTDCore
@testable import MTDIntel
import Testing

@Suite struct DomainMatchingTests {
    @Test func aHostMatchesWhenItOrAParentIsAnIndicator() throws {
        let intel = try #require(Shipped.intelligence)
        #expect(intel.matchesDomain("1topspy.com"))
        #expect(intel.matchesDomain("api.1topspy.com"))
        #expect(intel.matchesDomain("A.B.1TOPSPY.COM."))
        #expect(!intel.matchesDomain("topspy.com"))
        #expect(!intel.matchesDomain("x1topspy.com"))
        #expect(!intel.matchesDomain("com"))
        #expect(!intel.matchesDomain(""))
    }

    @Test func sharedHostingCustomersMatchButNotTheHostingDomain() throws {
        let intel = try #require(Shipped.intelligence)
        let matches = intel.domainMatches("21457452org.weebly.com")
        #expect(matches.contains { $0.source.id == "blocklistproject:phishing" && $0.classification == .phishingContent })
        #expect(!intel.matchesDomain("weebly.com"))
        #expect(!intel.matchesDomain("www.weebly.com"))
    }

    @Test func ipIndicatorsMatchOnlyExactly() throws {
        let intel = try #require(Shipped.intelligence)
        #expect(intel.domainMatches("69.64.74.239").first?.source.id == "stalkerware")
        #expect(!intel.matchesDomain("1.69.64.74.239"))
    }

    @Test func urlRulesMatchHostAndPathPrefix() throws {
        let intel = try #require(Shipped.intelligence)
        #expect(intel.urlMatches("https://0x0.st/8ics.py").first?.source.id == "urlhaus")
        #expect(intel.urlMatches("https://0x0.st/8ics.py?x=1").isEmpty == false)
        #expect(intel.urlMatches("https://0x0.st/other.txt").isEmpty)
        #expect(!intel.matchesDomain("0x0.st"))
    }

    @Test func stalkerwareCatalogYieldsAppsCertificatesAndBundles() throws {
        let intel = try #require(Shipped.intelligence)
        let stats = try #require(zip(intel.sources, intel.sourceStats).first { $0.0.id == "stalkerware" }?.1)
        #expect(stats.appIds == 616)
        #expect(stats.signers == 472)
        #expect(stats.domains == 925)
        #expect(stats.ipAddresses == 65)
        var watchware: [IntelMatch] = []
        intel.forEachAppIdMatch("com.life360.safetymap") { watchware.append($0) }
        #expect(watchware.first?.classification == .riskware)
        var byId: [IntelMatch] = []
        intel.forEachAppIdMatch("COM.APSPY.APP") { byId.append($0) }
        #expect(byId.first?.label == "TheTruthSpy")
    }

    @Test func signersMatchInAnyNotation() throws {
        let intel = try #require(Shipped.intelligence)
        for notation in ["31A6ECECD97CF39BC4126B8745CD94A7C30BF81C", "31:a6:ec:ec:d9:7c:f3:9b:c4:12:6b:87:45:cd:94:a7:c3:0b:f8:1c"] {
            var matches: [IntelMatch] = []
            intel.forEachSignerMatch(try #require(HexDigest(notation))) { matches.append($0) }
            #expect(matches.first?.label == "TheTruthSpy")
        }
    }

    @Test func eicarIsTheVirusTestFile() throws {
        let intel = try #require(Shipped.intelligence)
        var matches: [IntelMatch] = []
        intel.forEachPackageHashMatch(try #require(HexDigest("275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F"))) { matches.append($0) }
        #expect(matches.map(\.classification) == [.virus])
    }

    @Test func appIntelligenceCSVImportsWithLineNumberedErrors() throws {
        var builder = IntelligenceBuilder()
        let entry = IntelligenceFileEntry(file: "vendor.csv", format: .appCSV, id: "vendor", name: "Vendor feed", classification: nil)
        let csv = """
        classification,id,signer,sha256,label
        TROJAN,com.evil.flashlight,,,FakeLight
        ADWARE,,AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD,,"Ads, Inc"
        """
        try builder.add(entry, data: Data(csv.utf8))
        let intel = builder.build(os: OSCatalog(), publicSuffixList: PublicSuffixList(listText: ""), cloudServices: CloudServiceCatalog(services: []))
        var matches: [IntelMatch] = []
        intel.forEachAppIdMatch("com.evil.flashlight") { matches.append($0) }
        #expect(matches.map(\.classification) == [.trojan])
        intel.forEachSignerMatch(try #require(HexDigest("aabbccddeeff00112233445566778899aabbccdd"))) { matches.append($0) }
        #expect(matches.last?.label == "Ads, Inc")

        var bad = IntelligenceBuilder()
        do {
            try bad.add(entry, data: Data("classification,id\nTROJN,com.x\n".utf8))
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("vendor.csv: line 2"))
            #expect(error.description.contains("TROJAN"))
        }
    }

    @Test func domainSetsMatchParents() {
        let set = DomainSet([("dropbox.com", "Dropbox"), ("db.tt", "Dropbox")])
        #expect(set.match("content.dropbox.com")?.name == "Dropbox")
        #expect(set.match("notdropbox.com") == nil)
        #expect(DomainSet([]).match("a.com") == nil)
    }
}
