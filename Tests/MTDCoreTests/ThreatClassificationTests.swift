import MTDCore
import Testing

@Suite struct ThreatClassificationTests {
    @Test func capabilityTableHasTheSeedArticlesThirtySevenClassifications() {
        let names = ThreatClassification.capabilityTable.map(\.rawValue)
        #expect(names.count == 37)
        #expect(names.first == "ACCESS_CONTROL_VIOLATION")
        #expect(names.last == "WORM")
        #expect(Set(names).count == 37)
        for expected in ["ROGUE_WIFI", "OUT_OF_DATE_ASPL", "NON_APP_STORE_SIGNER", "VIRUS", "PCP_DISABLED", "VPN_NOT_ENABLED"] {
            #expect(names.contains(expected))
        }
    }

    @Test func embeddedAgentsCannotDetectWebContentOrContentProtection() {
        let standaloneOnly = ThreatClassification.allCases.filter { !$0.isDetectable(in: .embedded) }.map(\.rawValue).sorted()
        #expect(standaloneOnly == ["DENYLISTED_CONTENT", "MALICIOUS_CONTENT", "OFFENSIVE_CONTENT", "PCP_DISABLED", "PHISHING_CONTENT"])
        #expect(ThreatClassification.allCases.allSatisfy { $0.isDetectable(in: .standalone) })
    }

    @Test func everyClassificationIsDescribed() {
        for classification in ThreatClassification.allCases {
            #expect(!classification.summary.isEmpty)
            #expect(classification.summary.count < 160, "one line: \(classification)")
        }
        #expect(ThreatClassification.phishingContent.type == .webContent)
        #expect(ThreatClassification.rootJailbreak.defaultSeverity == .high)
        #expect(ThreatClassification.activeMITM.type == .network)
    }

    @Test func securityStatusFollowsTheHighestSeverity() {
        #expect(SecurityStatus(highestSeverity: .none) == .secure)
        #expect(SecurityStatus(highestSeverity: .low) == .threatsLow)
        #expect(SecurityStatus(highestSeverity: .high) == .threatsHigh)
        #expect(Severity.none < Severity.low && Severity.medium < Severity.high)
    }
}
