import Foundation
import MTDAgent
import MTDCore
import Testing

struct ConfigurationTests {
    let server = URL(string: "https://mtd.example.com")

    func hub(_ json: String) throws(AgentConfigurationError) -> AgentConfiguration {
        try AgentConfiguration.hubCustomSettings(Data(json.utf8), defaultServer: server, udid: "UDID-1")
    }

    @Test func hubCustomSettingsThatWork() throws {
        let on = try hub(#"{"mtdSettings":{"isEnabled":true,"enrollmentCode":"ENR-42"},"other":{"x":1}}"#)
        #expect(on.isEnabled)
        #expect(on.enrollmentCode == "ENR-42")
        #expect(on.mode == .embedded)
        #expect(on.udid == "UDID-1")
        #expect(on.serverURL.absoluteString == "https://mtd.example.com")
        let elsewhere = try hub(#"{"mtdSettings":{"isEnabled":true,"enrollmentCode":"ENR-42","serverURL":"http://10.0.0.5:8080"}}"#)
        #expect(elsewhere.serverURL.absoluteString == "http://10.0.0.5:8080")
        // Off needs no enrollment code.
        let off = try hub(#"{"mtdSettings":{"isEnabled":false}}"#)
        #expect(!off.isEnabled)
    }

    @Test(arguments: [
        (#"[1,2]"#, "agent configuration: $ the custom settings are not a JSON object"),
        (#"{"mtd":{}}"#, "agent configuration: mtdSettings is missing; add {\"mtdSettings\": {\"isEnabled\": true, \"enrollmentCode\": \"…\"}} to the Hub custom settings"),
        (#"{"mtdSettings":{"enrollmentCode":"A"}}"#, "agent configuration: mtdSettings.isEnabled is missing; true to turn the MTD on"),
        (#"{"mtdSettings":{"isEnabled":"yes","enrollmentCode":"A"}}"#, "agent configuration: mtdSettings.isEnabled must be true or false, not \"yes\""),
        (#"{"mtdSettings":{"isEnabled":1,"enrollmentCode":"A"}}"#, "agent configuration: mtdSettings.isEnabled must be true or false, not 1"),
        (#"{"mtdSettings":{"isEnabled":true}}"#, "agent configuration: mtdSettings.enrollmentCode is missing; the enrollment code from the OpenMTD console (Integrations → Enrollment)"),
        (#"{"mtdSettings":{"isEnabled":true,"enrollmentCode":"  "}}"#, "agent configuration: mtdSettings.enrollmentCode is empty"),
        (#"{"mtdSettings":{"isEnabled":true,"enrollmentCode":42}}"#, "agent configuration: mtdSettings.enrollmentCode must be a string, not 42"),
        (#"{"mtdSettings":{"isEnabled":true,"enrollmentCode":"a b"}}"#, "agent configuration: mtdSettings.enrollmentCode \"a b\" is not an enrollment code (letters, digits, - and _ only)"),
        (#"{"mtdSettings":{"isEnabled":true,"enrollmentCode":"A","serverURL":"ftp://x"}}"#, "agent configuration: mtdSettings.serverURL ftp://x is not an http(s) address"),
    ]) func hubCustomSettingsThatDoNot(_ json: String, _ message: String) {
        do {
            _ = try hub(json)
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func aServerIsNeededFromSomewhere() {
        #expect(throws: AgentConfigurationError.missing(key: "mtdSettings.serverURL", hint: "the OpenMTD server address, e.g. https://mtd.example.com")) {
            try AgentConfiguration.hubCustomSettings(Data(#"{"mtdSettings":{"isEnabled":true,"enrollmentCode":"A"}}"#.utf8), defaultServer: nil)
        }
    }

    @Test func managedAppConfigThatWorks() throws {
        let configuration = try AgentConfiguration.managedAppConfig(
            ["DEVICE_UDID": "00008110-001", "MDM": "AirWatch", "EMAIL": "jo@example.com", "GLOBAL_ENROLLMENT_CODE": "ENR-42", "DEVICE_UUID": "abc-123"],
            defaultServer: server)
        #expect(configuration.mode == .standalone)
        #expect(configuration.udid == "00008110-001")
        #expect(configuration.email == "jo@example.com")
        #expect(configuration.mdm == "AirWatch")
        #expect(configuration.externalID == "abc-123")
        #expect(configuration.enrollmentCode == "ENR-42")
    }

    @Test(arguments: [
        (["GLOBAL_ENROLLMENT_CODE": "A"] as [String: String], "agent configuration: DEVICE_UDID is missing; set it in the app configuration of the MDM"),
        (["DEVICE_UDID": "U"], "agent configuration: GLOBAL_ENROLLMENT_CODE is missing; set it in the app configuration of the MDM"),
        (["DEVICE_UDID": "{DeviceUid}", "GLOBAL_ENROLLMENT_CODE": "A"],
         "agent configuration: DEVICE_UDID holds the unresolved lookup value {DeviceUid}; check the lookup name in the MDM's app configuration"),
        (["DEVICE_UDID": "U", "GLOBAL_ENROLLMENT_CODE": "A", "EMAIL": "nobody"], "agent configuration: EMAIL nobody is not an e-mail address"),
        (["DEVICE_UDID": "U", "GLOBAL_ENROLLMENT_CODE": ""], "agent configuration: GLOBAL_ENROLLMENT_CODE is empty"),
        (["DEVICE_UDID": "U", "GLOBAL_ENROLLMENT_CODE": "A", "SERVER_URL": "not a url"], "agent configuration: SERVER_URL not a url is not an http(s) address"),
    ]) func managedAppConfigThatDoesNot(_ values: [String: String], _ message: String) {
        do {
            _ = try AgentConfiguration.managedAppConfig(values, defaultServer: server)
            Issue.record("accepted \(values)")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func nonStringAppConfigValuesAreRefused() {
        #expect(throws: AgentConfigurationError.invalid(key: "DEVICE_UDID", reason: "must be a string, not 42")) {
            try AgentConfiguration.managedAppConfig(["DEVICE_UDID": 42, "GLOBAL_ENROLLMENT_CODE": "A"], defaultServer: server)
        }
    }
}
