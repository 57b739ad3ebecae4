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
