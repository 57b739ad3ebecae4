import Foundation
import MTDCore
import Testing

@Suite struct CheckInDecoderTests {
    let decoder = CheckInDecoder()

    func decode(_ json: String) throws(DocumentError) -> CheckIn {
        try decoder.decode(Data(json.utf8))
    }

    func error(_ json: String) -> DocumentError? {
        do {
            _ = try decode(json)
            return nil
        } catch {
            return error
        }
    }

    let minimal = #"{"schemaVersion":1,"agent":{"mode":"EMBEDDED"},"device":{"platform":"IOS","osVersion":"26.1"}}"#

    @Test func minimalDocumentDecodesWithEverythingElseUnobserved() throws {
        let checkIn = try decode(minimal)
        #expect(checkIn.agent.mode == .embedded)
        #expect(checkIn.device.platform == .ios)
        #expect(checkIn.posture == nil)
        #expect(checkIn.apps == nil)
    }

    @Test func absentPostureFieldsStayUnknownRatherThanFalse() throws {
        let checkIn = try decode(#"{"schemaVersion":1,"agent":{"mode":"EMBEDDED"},"device":{"platform":"IOS","osVersion":"26.1"},"posture":{"passcodeSet":false}}"#)
        #expect(checkIn.posture?.passcodeSet == false)
        #expect(checkIn.posture?.storageEncrypted == nil)
        #expect(checkIn.posture?.vpnPermissionGranted == nil)
    }

    @Test func unknownFieldsAreIgnored() throws {
        let checkIn = try decode(#"{"schemaVersion":1,"future":{"x":1},"agent":{"mode":"STANDALONE","newField":true},"device":{"platform":"ANDROID","osVersion":"15","chipset":"x"}}"#)
        #expect(checkIn.device.platform == .android)
    }

    @Test func malformedJSONIsRejectedAtTheRoot() {
        let failure = error(#"{"schemaVersion":1,"agent":"#)
        #expect(failure?.path == "$")
        #expect(failure?.message.contains("not a valid document") == true)
    }

    @Test func wrongTypeNamesTheField() {
        let failure = error(#"{"schemaVersion":1,"agent":{"mode":"EMBEDDED"},"device":{"platform":"ANDROID","osVersion":"15","apiLevel":"34"}}"#)
        #expect(failure?.path == "$.device.apiLevel")
        #expect(failure?.message.contains("integer") == true)
    }

    @Test func unknownEnumValueNamesTheFieldAndTheAllowedValues() {
        let failure = error(#"{"schemaVersion":1,"agent":{"mode":"EMBEDDED"},"device":{"platform":"IOS","osVersion":"26"},"apps":{"inventoryVersion":1,"complete":true,"installed":[{"id":"a"},{"id":"b","source":"TESTFLIGHT"}]}}"#)
        #expect(failure?.path == "$.apps.installed[1].source")
        #expect(failure?.message.contains("TESTFLIGHT") == true)
        #expect(failure?.message.contains("SIDELOADED") == true)
    }

    @Test func missingRequiredFieldNamesIt() {
        let failure = error(#"{"schemaVersion":1,"agent":{"mode":"EMBEDDED"},"device":{"osVersion":"26"}}"#)
        #expect(failure?.path == "$.device.platform")
        #expect(failure?.message == "required field is missing")
    }

    @Test func unsupportedSchemaVersionIsRejected() {
        #expect(error(#"{"schemaVersion":2,"agent":{"mode":"EMBEDDED"},"device":{"platform":"IOS","osVersion":"26"}}"#)?.path == "$.schemaVersion")
    }

    @Test func schemaConstraintsBeyondTypesAreChecked() {
        #expect(error(#"{"schemaVersion":1,"agent":{"mode":"EMBEDDED"},"device":{"platform":"ANDROID","osVersion":"15","securityPatchLevel":"2026-13-01"}}"#)?.path == "$.device.securityPatchLevel")
        #expect(error(#"{"schemaVersion":1,"agent":{"mode":"EMBEDDED","sentAt":"yesterday"},"device":{"platform":"IOS","osVersion":"26"}}"#)?.path == "$.agent.sentAt")
        #expect(error(#"{"schemaVersion":1,"agent":{"mode":"EMBEDDED"},"device":{"platform":"IOS","osVersion":"26"},"activity":[{"host":"a.com","count":0}]}"#)?.path == "$.activity[0].count")
        #expect(error(#"{"schemaVersion":1,"agent":{"mode":"EMBEDDED"},"device":{"platform":"IOS","osVersion":"26"},"apps":{"inventoryVersion":-1,"complete":true}}"#)?.path == "$.apps.inventoryVersion")
        #expect(error(#"{"schemaVersion":1,"agent":{"mode":"EMBEDDED"},"device":{"platform":"IOS","osVersion":" "}}"#)?.path == "$.device.osVersion")
    }

    @Test func oversizedDocumentsAreRefusedBeforeParsing() {
        let small = CheckInDecoder(maximumBytes: 64)
        do {
            _ = try small.decode(Data(minimal.utf8) + Data(repeating: 32, count: 100))
            Issue.record("expected a size error")
        } catch {
            #expect(error.path == "$")
            #expect(error.message.contains("limit is 64"))
        }
    }

    @Test func roundTripsThroughJSON() throws {
        let original = CheckIn(
            agent: AgentInfo(mode: .standalone),
            device: DeviceInfo(platform: .android, osVersion: "14", securityPatchLevel: "2026-01-05"),
            posture: Posture(passcodeSet: true),
            apps: AppInventory(inventoryVersion: 2, complete: false, installed: [InstalledApp(id: "x.y", source: .sideloaded)], removed: ["a.b"]),
            network: NetworkObservation(anomalies: [.portScan]))
        let data = try JSONEncoder().encode(original)
        #expect(try decoder.decode(data) == original)
    }
}
