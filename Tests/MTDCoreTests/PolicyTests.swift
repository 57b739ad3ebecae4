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
