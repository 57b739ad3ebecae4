import MTDCore
import MTDDetection
import Testing

@Suite struct ThreatReconciliationTests {
    func finding(_ classification: ThreatClassification, _ subject: String, indicator: String = "x", severity: Severity = .high) -> Finding {
        Finding(classification: classification, severity: severity, evidence: Evidence(subject: subject, indicator: indicator, source: "test"))
    }

    func known(_ finding: Finding, _ status: KnownThreat.Status = .open) -> KnownThreat {
        KnownThreat(key: finding.key, status: status, severity: finding.severity, fingerprint: finding.evidence.fingerprint)
    }

    @Test func newFindingsOpenThreatsAndGoneFindingsResolveThem() {
        let stalker = finding(.surveillanceware, "app:com.apspy.app")
        let usb = finding(.usbDebuggingEnabled, "device", severity: .low)
        let changes = ThreatReconciliation.reconcile(findings: [stalker], known: [known(usb)])
        #expect(changes.opened == [stalker])
        #expect(changes.resolved == [usb.key])
        #expect(changes.unchanged.isEmpty)
    }

    @Test func sameEvidenceIsUnchanged() {
        let stalker = finding(.surveillanceware, "app:com.apspy.app")
        let changes = ThreatReconciliation.reconcile(findings: [stalker], known: [known(stalker)])
        #expect(changes.isEmpty)
        #expect(changes.unchanged == [stalker.key])
    }

    @Test func ignoredThreatStaysIgnoredUntilItsEvidenceChanges() {
        let original = finding(.outOfDateOS, "device", indicator: "iOS 18.7.2")
        let ignored = known(original, .ignored)
        #expect(ThreatReconciliation.reconcile(findings: [original], known: [ignored]).unchanged == [original.key])
        let newer = finding(.outOfDateOS, "device", indicator: "iOS 18.7.3")
        let changes = ThreatReconciliation.reconcile(findings: [newer], known: [ignored])
        #expect(changes.reopened == [original.key])
        #expect(changes.updated == [newer])
        #expect(changes.opened.isEmpty)
    }

    @Test func severityChangeUpdatesAnOpenThreat() {
        let before = finding(.noDeviceLock, "device", severity: .medium)
        let after = finding(.noDeviceLock, "device", severity: .high)
        #expect(ThreatReconciliation.reconcile(findings: [after], known: [known(before)]).updated == [after])
    }

    @Test func ignoredThreatWhoseFindingIsGoneResolves() {
        let gone = finding(.rootJailbreak, "device")
        #expect(ThreatReconciliation.reconcile(findings: [], known: [known(gone, .ignored)]).resolved == [gone.key])
    }
}
