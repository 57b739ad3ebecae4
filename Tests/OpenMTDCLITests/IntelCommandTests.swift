import Foundation
import Testing

@Suite(.serialized) struct IntelCommandTests {
    @Test func matchFollowsTheContract() throws {
        let folder = try CLI.temporaryFolder()
        let bundle = folder.appendingPathComponent("test.stix2")
        try Data(#"""
        {"type":"bundle","id":"bundle--1","objects":[
         {"type":"malware","id":"malware--1","name":"TestSpy","is_family":false},
         {"type":"indicator","id":"indicator--1","pattern":"[domain-name:value='evil.example']","pattern_type":"stix"},
         {"type":"indicator","id":"indicator--2","pattern":"[ipv4-addr:value='192.0.2.7']","pattern_type":"stix"},
         {"type":"indicator","id":"indicator--3","pattern":"[process:name='testspyd']","pattern_type":"stix"},
         {"type":"relationship","id":"relationship--1","relationship_type":"indicates","source_ref":"indicator--1","target_ref":"malware--1"}
        ]}
        """#.utf8).write(to: bundle)
        let hosts = folder.appendingPathComponent("hosts.txt")
        try Data("evil.example\nA.Evil.Example\nnotevil.example\nexample\n192.0.2.7\n10.192.0.2.7\nevil.example\n\n# comment\n".utf8).write(to: hosts)
        let result = try CLI.run(["intel", "match", "--stix", folder.path, "--hosts", hosts.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "evil.example\nA.Evil.Example\n192.0.2.7\n")
        let figures = try #require(try JSONSerialization.jsonObject(with: Data(result.stderr.utf8)) as? [String: Any])
        #expect(figures["hosts"] as? Int == 7)
        #expect(figures["matched"] as? Int == 3)
        #expect(figures["loadSeconds"] is Double)
        #expect(figures["matchSeconds"] is Double)

        // MVT's fallback for hosts without a known top-level domain, only on request.
        let odd = Data("www.192.0.2.7\nxevil.example\nevil.example\n".utf8)
        let strict = try CLI.run(["intel", "match", "--stix", bundle.path, "--hosts", "-"], stdin: odd)
        #expect(strict.stdout == "evil.example\n")
        let lenient = try CLI.run(["intel", "match", "--mvt-compatible", "--stix", bundle.path, "--hosts", "-"], stdin: odd)
        #expect(lenient.stdout == "www.192.0.2.7\nxevil.example\nevil.example\n")
    }

    @Test func matchOnAllShippedBundles() throws {
        let stix = CLI.root.appendingPathComponent("Sources/MTDIntel/Data/stix2").path
        let result = try CLI.run(["intel", "match", "--stix", stix, "--hosts", "-"], stdin: Data("weather4free.com\nwww.google.com\nx.y.weather4free.com\n".utf8))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "weather4free.com\nx.y.weather4free.com\n")
    }

    @Test func matchRejectsBrokenBundles() throws {
        let folder = try CLI.temporaryFolder()
        let bundle = folder.appendingPathComponent("broken.stix2")
        try Data("{\"type\":\"bundle\",\"objects\":[{\"type\":".utf8).write(to: bundle)
        let result = try CLI.run(["intel", "match", "--stix", bundle.path, "--hosts", "-"], stdin: Data())
        #expect(result.status == 2)
        #expect(result.stderr.contains("broken.stix2"))
    }

    @Test func checkExplainsMatches() throws {
        let empty = try CLI.temporaryFolder().path
        let result = try CLI.run(["intel", "check", "--data-dir", empty, "api.1topspy.com", "com.apspy.app", "www.example.org",
                                  "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("api.1topspy.com: SURVEILLANCEWARE — domain indicator \"1topspy.com\""))
        #expect(result.stdout.contains("com.apspy.app: SURVEILLANCEWARE — appId indicator"))
        #expect(result.stdout.contains("www.example.org: no match"))
        #expect(result.stdout.contains("VIRUS"))
    }

    @Test func statsCountsEverySource() throws {
        let empty = try CLI.temporaryFolder().path
        let result = try CLI.run(["intel", "stats", "--data-dir", empty, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let sources = try #require(output["sources"] as? [[String: Any]])
        #expect(sources.count >= 25)
        #expect((output["domainKeys"] as? Int ?? 0) > 200_000)
        let classifications = try CLI.run(["intel", "stats", "--classifications"])
        #expect(classifications.stdout.contains("PHISHING_CONTENT"))
        #expect(classifications.stdout.contains("STANDALONE"))
    }

    @Test func importedIntelligenceIsUsedByLaterCommands() throws {
        let data = try CLI.temporaryFolder()
        let list = data.appendingPathComponent("offensive.txt")
        try Data("# our own list\nbad-words.example\n".utf8).write(to: list)

        let missingClassification = try CLI.run(["intel", "import", "--data-dir", data.path, list.path])
        #expect(missingClassification.status == 2)
        #expect(missingClassification.stderr.contains("--classification"))

        let typo = try CLI.run(["intel", "import", "--data-dir", data.path, "--classification", "OFENSIVE_CONTENT", list.path])
        #expect(typo.status == 2)
        #expect(typo.stderr.contains("OFFENSIVE_CONTENT"))

        let imported = try CLI.run(["intel", "import", "--data-dir", data.path, "--classification", "OFFENSIVE_CONTENT", list.path])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("1 indicators"))

        let check = try CLI.run(["intel", "check", "--data-dir", data.path, "www.bad-words.example"])
        #expect(check.stdout.contains("OFFENSIVE_CONTENT"))

        let csv = data.appendingPathComponent("feed.csv")
        try Data("classification,id,signer,sha256,label\nTROJAN,com.fake.bank,,,FakeBank\n".utf8).write(to: csv)
        let apps = try CLI.run(["intel", "import", "--data-dir", data.path, csv.path])
        #expect(apps.status == 0, "\(apps.stderr)")
        let appCheck = try CLI.run(["intel", "check", "--data-dir", data.path, "com.fake.bank"])
        #expect(appCheck.stdout.contains("TROJAN"))

        let bad = data.appendingPathComponent("bad.csv")
        try Data("classification,id\nTROJAN\n".utf8).write(to: bad)
        let badImport = try CLI.run(["intel", "import", "--data-dir", data.path, bad.path])
        #expect(badImport.status == 2)
        #expect(badImport.stderr.contains("bad.csv: line 2"))
    }
}
