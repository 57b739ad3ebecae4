import Foundation
import MTDCore
import Testing

@Suite struct PolicyTests {
    func decode(_ json: String) throws -> Policy {
        try JSONDecoder().decode(Policy.self, from: Data(json.utf8))
    }

    func failure(_ json: String) -> DocumentError? {
        do {
            _ = try decode(json)
            return nil
        } catch {
            return DocumentError(decoding: error)
        }
    }

    @Test func emptyPolicyHasTheDocumentedDefaults() throws {
        let policy = try decode("{}")
        #expect(policy.os.gracePeriodDays == 30)
        #expect(policy.os.maxAndroidPatchAgeDays == 90)
        #expect(policy.severity(of: .rootJailbreak) == ThreatClassification.rootJailbreak.defaultSeverity)
    }

    @Test func severitiesOverrideDefaults() throws {
        let policy = try decode(#"{"severities":{"USB_DEBUGGING_ENABLED":"HIGH","SIDELOADED_APP":"NONE"}}"#)
        #expect(policy.severity(of: .usbDebuggingEnabled) == .high)
        #expect(policy.severity(of: .sideloadedApp) == .none)
        #expect(policy.severity(of: .noDeviceLock) == .medium)
    }

    @Test func unknownClassificationIsNamedWithASuggestion() {
        let error = failure(#"{"severities":{"ROOT_JAILBRAKE":"HIGH"}}"#)
        #expect(error?.path == "$.severities.ROOT_JAILBRAKE")
        #expect(error?.message.contains("ROOT_JAILBREAK") == true)
    }

    @Test func misspeltFieldIsRejectedNotIgnored() {
        let error = failure(#"{"trustedWifi":[]}"#)
        #expect(error?.path == "$.trustedWifi")
        #expect(error?.message.contains("trustedWiFi") == true)
    }

    @Test func nestedErrorsNameTheirPath() {
        #expect(failure(#"{"apps":{"deny":[{"id":"a"},{"signer":"zz"}]}}"#)?.path == "$.apps.deny[1].signer")
        #expect(failure(#"{"apps":{"deny":[{"reason":"no id"}]}}"#)?.path == "$.apps.deny[0]")
        #expect(failure(#"{"trustedWiFi":[{"ssid":"Corp","security":"WPA9"}]}"#)?.path == "$.trustedWiFi[0].security")
        #expect(failure(#"{"os":{"gracePeriodDays":-1}}"#)?.path == "$.os.gracePeriodDays")
        #expect(failure(#"{"severities":{"VIRUS":"CRITICAL"}}"#)?.path == "$.severities.VIRUS")
    }

    @Test func cloudServicesAcceptNamesOrCustomDomains() throws {
        let policy = try decode(#"{"disallowedCloudServices":["Dropbox",{"name":"Internal share","domains":["share.example.com"]}]}"#)
        #expect(policy.disallowedCloudServices == [CloudServiceRule(name: "Dropbox"), CloudServiceRule(name: "Internal share", domains: ["share.example.com"])])
    }

    @Test func encodesAndDecodesToTheSamePolicy() throws {
        let policy = try decode(#"{"severities":{"VIRUS":"NONE"},"apps":{"deny":[{"id":"com.bad","reason":"r"}]},"contentDenyList":["x.com"]}"#)
        let again = try JSONDecoder().decode(Policy.self, from: JSONEncoder().encode(policy))
        #expect(again == policy)
    }

    @Test func signerRulesMatchByTeamOrName() {
        #expect(SignerRule(teamId: "ABC").matches(SigningIdentity(name: "x", teamId: "abc")))
        #expect(SignerRule(name: "Example Corp").matches(SigningIdentity(name: "Example Corp")))
        #expect(!SignerRule(name: "Example Corp", teamId: "ABC").matches(SigningIdentity(name: "Example Corp", teamId: "XYZ")))
    }
}

/// When a device's resolver counts as silent: only with `silenceHours`, only past the window, and
/// only for a device that checked in within it (a device that is off is not silent).
@Suite struct ResolverSilenceTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func silenceNeedsThePolicyAWindowAndARecentCheckIn() throws {
        var rules = ProtectiveDNSRules()
        let hoursAgo = { (hours: Double) in self.now.addingTimeInterval(-hours * 3_600) }
        #expect(!rules.resolverIsSilent(lastQueryAt: hoursAgo(100), lastCheckInAt: now, now: now), "off by default")
        rules.silenceHours = 24
        #expect(rules.resolverIsSilent(lastQueryAt: hoursAgo(25), lastCheckInAt: hoursAgo(1), now: now))
        #expect(!rules.resolverIsSilent(lastQueryAt: hoursAgo(23), lastCheckInAt: hoursAgo(1), now: now), "within the window")
        #expect(!rules.resolverIsSilent(lastQueryAt: hoursAgo(48), lastCheckInAt: hoursAgo(30), now: now), "the device is off, not its resolver")
        #expect(!rules.resolverIsSilent(lastQueryAt: hoursAgo(48), lastCheckInAt: nil, now: now))
    }

    @Test func silenceHoursAreBoundedAndOptional() throws {
        let decode = { (json: String) in try JSONDecoder().decode(ProtectiveDNSRules.self, from: Data(json.utf8)) }
        #expect(try decode("{}").silenceHours == nil)
        #expect(try decode(#"{"silenceHours": 720}"#).silenceHours == 720)
        #expect(throws: DecodingError.self) { try decode(#"{"silenceHours": 0}"#) }
        #expect(throws: DecodingError.self) { try decode(#"{"silenceHours": 721}"#) }
        let encoded = try JSONEncoder().encode(try decode(#"{"silenceHours": 6}"#))
        #expect(try decode(String(decoding: encoded, as: UTF8.self)).silenceHours == 6)
    }
}

/// Whom an unattributed resolver client counts for, from the enterprises' declared networks.
@Suite struct ResolverNetworkTests {
    let first = UUID(), second = UUID(), third = UUID()

    func network(_ text: String) throws -> IPNetwork { try #require(IPNetwork.parse(text)) }
    func address(_ text: String) throws -> IPAddress { try #require(IPAddress.parse(text)) }

    @Test func withoutDeclaredNetworksEveryoneCountsForTheDefaultEnterprise() throws {
        let table = ResolverNetworks(defaultEnterpriseID: first)
        #expect(table.admission(for: try address("203.0.113.9")) == .enterprise(first))
        #expect(table.admission(for: nil) == .enterprise(first))
    }

    @Test func theMostSpecificNetworkWinsAndOutsidersAreRefused() throws {
        let table = ResolverNetworks(defaultEnterpriseID: first, networks: [
            second: [try network("10.0.0.0/8"), try network("2001:db8::/32")],
            third: [try network("10.20.0.0/16"), try network("192.0.2.7")],
        ])
        #expect(table.admission(for: try address("10.1.2.3")) == .enterprise(second))
        #expect(table.admission(for: try address("10.20.9.9")) == .enterprise(third))
        #expect(table.admission(for: try address("192.0.2.7")) == .enterprise(third))
        #expect(table.admission(for: try address("::ffff:10.20.0.1")) == .enterprise(third), "IPv4-mapped IPv6 counts as IPv4")
        #expect(table.admission(for: try address("2001:db8:1::5")) == .enterprise(second))
        #expect(table.admission(for: try address("192.0.2.8")) == .refused)
        #expect(table.admission(for: try address("127.0.0.1")) == .refused, "the default enterprise no longer takes everyone")
        #expect(table.admission(for: nil) == .refused)
    }

    @Test func overlapsAreFoundEitherWay() throws {
        #expect(ResolverNetworks.overlap([try network("10.20.0.0/16")], with: [try network("10.0.0.0/8")]) != nil)
        #expect(ResolverNetworks.overlap([try network("10.0.0.0/8")], with: [try network("10.20.3.4")]) != nil)
        #expect(ResolverNetworks.overlap([try network("10.0.0.0/8")], with: [try network("11.0.0.0/8"), try network("2001:db8::/32")]) == nil)
        #expect(ResolverNetworks.overlap([try network("0.0.0.0/0")], with: [try network("::/0")]) == nil, "families never overlap")
    }

    @Test func networksInThePolicyAreParsedWithBadEntriesNamed() throws {
        let policy = try JSONDecoder().decode(Policy.self, from: Data(#"{"protectiveDNS":{"networks":["10.20.0.0/16","192.0.2.7"]}}"#.utf8))
        #expect(policy.protectiveDNS.networks.map(\.description) == ["10.20.0.0/16", "192.0.2.7/32"])
        let again = try JSONDecoder().decode(Policy.self, from: JSONEncoder().encode(policy))
        #expect(again.protectiveDNS.networks == policy.protectiveDNS.networks)
        do {
            _ = try JSONDecoder().decode(Policy.self, from: Data(#"{"protectiveDNS":{"networks":["10.20.0.0/16","10.1.0.0/33"]}}"#.utf8))
            Issue.record("a /33 was accepted")
        } catch {
            let problem = DocumentError(decoding: error)
            #expect(problem.path == "$.protectiveDNS.networks[1]" && problem.message.contains("10.1.0.0/33"), "\(problem.path): \(problem.message)")
        }
    }
}
