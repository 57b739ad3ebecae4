import Foundation
@testable import MTDAgent
import MTDCore
import Testing

struct BackoffTests {
    @Test func retryAfterWinsAndExponentialGrowsWithJitterUpToTheCap() {
        let backoff = Backoff(base: 2, cap: 60)
        #expect(backoff.delay(attempt: 3, retryAfter: 7, random: 0.9) == 7)
        #expect(backoff.delay(attempt: 1, retryAfter: nil, random: 0) == 1)
        #expect(backoff.delay(attempt: 1, retryAfter: nil, random: 1) == 2)
        #expect(backoff.delay(attempt: 4, retryAfter: nil, random: 0) == 8)
        #expect(backoff.delay(attempt: 4, retryAfter: nil, random: 0.5) == 12)
        #expect(backoff.delay(attempt: 20, retryAfter: nil, random: 1) == 60)
        #expect(backoff.delay(attempt: 2, retryAfter: 3600, random: 0) == 60, "a Retry-After beyond the cap is capped")
    }
}

struct InventoryPlannerTests {
    let whatsapp = InstalledApp(id: "com.whatsapp", version: "2.24")
    let maps = InstalledApp(id: "com.google.android.apps.maps", version: "11.0")

    @Test func completeFirstThenDeltasThenNothing() {
        var state = AgentState()
        let first = InventoryPlanner.plan(apps: [whatsapp, maps], state: state)
        #expect(first.inventory == AppInventory(inventoryVersion: 1, complete: true, installed: [maps, whatsapp]))
        state.inventoryVersion = first.version
        state.acceptedApps = first.acceptedApps
        #expect(InventoryPlanner.plan(apps: [maps, whatsapp], state: state).inventory == nil)
        var updated = whatsapp
        updated.version = "2.25"
        let delta = InventoryPlanner.plan(apps: [updated], state: state)
        #expect(delta.inventory == AppInventory(inventoryVersion: 2, complete: false, installed: [updated], removed: ["com.google.android.apps.maps"]))
        state.fullInventoryRequired = true
        #expect(InventoryPlanner.plan(apps: [updated], state: state).inventory == AppInventory(inventoryVersion: 2, complete: true, installed: [updated]))
    }
}

struct OutboxTests {
    func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("openmtd-outbox-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func event(_ host: String) -> AgentEvent { .activity(NetworkActivity(app: "com.example", host: host, count: 1)) }

    @Test func eventsSurviveARestartUntilAcknowledged() async throws {
        let directory = try folder()
        do {
            let outbox = try FileOutbox(directory: directory, capacity: 100)
            _ = try await outbox.append([event("a.example"), event("b.example")])
            _ = try await outbox.append([event("c.example")])
        }
        let reopened = try FileOutbox(directory: directory, capacity: 100)
        let pending = await reopened.pending(limit: 10)
        #expect(pending.map(\.sequence) == [1, 2, 3])
        try await reopened.acknowledge(through: 2)
        _ = try await reopened.append([event("d.example")])
        let again = try FileOutbox(directory: directory, capacity: 100)
        #expect(await again.pending(limit: 10).map(\.sequence) == [3, 4])
        #expect(await again.pending(limit: 10).first?.event == event("c.example"))
    }

    @Test func aFullOutboxEvictsTheOldestAndCountsThem() async throws {
        let directory = try folder()
        let outbox = try FileOutbox(directory: directory, capacity: 3)
        #expect(try await outbox.append((1...5).map { event("h\($0).example") }) == 2)
        #expect(await outbox.pending(limit: 10).map(\.sequence) == [3, 4, 5])
        #expect(await outbox.evicted() == 2)
        let reopened = try FileOutbox(directory: directory, capacity: 3)
        #expect(await reopened.evicted() == 2, "the count of lost events is durable too")
        let memory = MemoryOutbox(capacity: 2)
        #expect(await memory.append([event("x"), event("y"), event("z")]) == 1)
    }

    @Test func aTornJournalLineIsSkipped() async throws {
        let directory = try folder()
        do {
            let outbox = try FileOutbox(directory: directory, capacity: 10)
            _ = try await outbox.append([event("a.example")])
        }
        let journal = directory.appendingPathComponent("outbox.journal")
        let handle = try FileHandle(forWritingTo: journal)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"sequence":2,"event":{"activ"#.utf8))
        try handle.close()
        let reopened = try FileOutbox(directory: directory, capacity: 10)
        #expect(await reopened.pending(limit: 10).map(\.sequence) == [1])
        _ = try await reopened.append([event("b.example")])
        #expect(await reopened.pending(limit: 10).map(\.sequence) == [1, 2])
    }
}

struct CredentialStoreTests {
    @Test func theCredentialFileIsReadableByItsOwnerOnly() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("openmtd-cred-\(UUID().uuidString)/credential.json")
        let store = FileCredentialStore(url: url)
        #expect(try store.load() == nil)
        let credential = AgentCredential(deviceID: "d", credential: "secret", server: "http://x")
        try store.save(credential)
        try store.save(credential)
        #expect(try store.load() == credential)
        let mode = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        try store.clear()
        #expect(try store.load() == nil)
    }
}

/// The seed article's known issue: a standalone MTD app removed an MDM-pushed VPN profile. The agent
/// touches only profiles it installed.
struct ProfileSafetyTests {
    @Test func theAgentNeverRemovesOrReplacesTheMDMsVPN() async throws {
        let tunnel = ManagedProfile(identifier: "com.vmware.tunnel.vpn", kind: .vpn, owner: "com.airwatch", name: "Workspace ONE Tunnel")
        let store = MemoryConfigurationStore([tunnel])
        let guardrail = AgentProfileGuard(store: store)
        try await guardrail.install(identifier: "org.openmtd.content-filter", kind: .vpn, name: "OpenMTD web protection")
        #expect(await store.profiles().count == 2)
        await #expect(throws: AgentProfileGuard.Refusal.notOwned(identifier: "com.vmware.tunnel.vpn", owner: "com.airwatch")) {
            try await guardrail.install(identifier: "com.vmware.tunnel.vpn", kind: .vpn, name: "hijack")
        }
        await #expect(throws: AgentProfileGuard.Refusal.notOwned(identifier: "com.vmware.tunnel.vpn", owner: "com.airwatch")) {
            try await guardrail.remove(identifier: "com.vmware.tunnel.vpn")
        }
        #expect(try await guardrail.removeOwnProfiles() == ["org.openmtd.content-filter"])
        #expect(await store.profiles() == [tunnel], "the MDM's Tunnel profile is exactly as it was")
    }
}

/// getaddrinfo through the SDK's system resolver, and the probe's verdict.
@Suite struct ContentProtectionTests {
    @Test func theSystemResolverAnswersFromTheHostsFile() async {
        #expect(await POSIXSystemResolver().addresses(of: "localhost").contains("127.0.0.1"))
        #expect(await POSIXSystemResolver().addresses(of: "no-such-name.invalid").isEmpty)
    }

    @Test func onlyTheMarkerMeansOurResolverAnswered() {
        #expect(ResolverProbe.name(serverHost: "mtd.example.com.") == "openmtd-probe.mtd.example.com")
        #expect(ResolverProbe.isProbe("openmtd-probe.mtd.example.com") && !ResolverProbe.isProbe("openmtd-probes.example.com"))
        #expect(ResolverProbe.answeredByOpenMTD(["198.51.100.53"]))
        #expect(!ResolverProbe.answeredByOpenMTD(["203.0.113.10"]) && !ResolverProbe.answeredByOpenMTD([]))
    }
}
