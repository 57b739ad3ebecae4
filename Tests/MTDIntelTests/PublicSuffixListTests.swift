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
        #expect(psl.registrableDomain(of: "21457452org.weebly.com") == "21457452org.weebly.com")
        #expect(psl.registrableDomain(of: "a.b.000webhostapp.com") == "b.000webhostapp.com")
        #expect(psl.registrableDomain(of: "www.bbc.co.uk") == "bbc.co.uk")
        #expect(psl.ruleCount > 10_000)
    }
}
