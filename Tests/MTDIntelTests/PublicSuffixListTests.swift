import Foundation
import MTDIntel
import Testing

@Suite struct PublicSuffixListTests {
    /// publicsuffix.org's own test vectors (tests/tests.txt): `input expected`, where `null` means none.
    @Test func officialTestVectorsPass() throws {
        let intel = try #require(Shipped.intelligence)
        let url = try #require(Bundle.module.url(forResource: "Fixtures/psl-tests", withExtension: "txt"))
        let text = try String(contentsOf: url, encoding: .utf8)
        var checked = 0
        for line in text.split(separator: "\n") where !line.hasPrefix("//") {
            let parts = line.split(separator: " ")
            guard parts.count == 2 else { continue }
            let input = parts[0] == "null" ? "" : String(parts[0])
            let expected = parts[1] == "null" ? nil : String(parts[1])
            #expect(intel.publicSuffixList.registrableDomain(of: input) == expected, "\(input)")
            checked += 1
        }
        #expect(checked >= 70)
    }

    @Test func privateSuffixesSeparateSharedHostingCustomers() throws {
        let psl = try #require(Shipped.intelligence).publicSuffixList
        #expect(psl.registrableDomain(of: "evil.github.io") == "evil.github.io")
        #expect(psl.registrableDomain(of: "a.b.blogspot.com") == "b.blogspot.com")
        // weebly.com is not on the list, so its customers share one registrable domain: one more
        // reason matching works on full hosts and never allowlists by registrable domain.
        #expect(psl.registrableDomain(of: "21457452org.weebly.com") == "weebly.com")
        #expect(psl.registrableDomain(of: "www.bbc.co.uk") == "bbc.co.uk")
        #expect(psl.ruleCount > 10_000)
    }
}
