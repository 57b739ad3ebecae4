import FluentKit
import Foundation
@testable import MTDServer
import MTDStore
import SQLKit
import Testing
import TestSupport

/// Event-log consumers: woken by commits (in the process, and across replicas through PostgreSQL),
/// one replica at a time under a lease that another replica takes over, and visible in /metrics,
/// the admin API and the console.
@Suite(.serialized) struct ConsumerTests {
    /// Polling is set to a minute, so a consumer that moves within two seconds was woken.
    static func slowPoll(_ configuration: inout ServerConfiguration) { configuration.consumerPollSeconds = 60 }

    static func consumer(_ name: String, in server: TestServer, token: String) async throws -> [String: Any] {
        let reply = try await server.send(.GET, "/api/v1/consumers", token: token)
        #expect(reply.status == 200)
        let list = try #require(reply.json["consumers"] as? [[String: Any]])
        return try #require(list.first { $0["name"] as? String == name }, "consumer \(name) is listed")
    }

    /// Waits until `condition` holds; returns the seconds it took (`seconds` when it did not happen).
    static func waitUntil(_ what: String, within seconds: Double, _ condition: () async throws -> Bool) async throws -> Double {
        guard let took = try await Wait.until(within: seconds, condition) else {
            Issue.record("\(what) did not happen within \(seconds) s")
            return seconds
        }
        return took
    }

    /// The consumer's position as the replica holding its lease knows it.
    static func position(_ name: String, _ server: TestServer) async throws -> Int {
        let statuses = try await server.app.mtd.consumers.status(on: server.app.db)
        return try #require(statuses.first { $0.name == name }).position
    }

    @Test(arguments: TestDatabase.available) func aCommitWakesTheConsumersAtOnce(_ database: TestDatabase) async throws {
        try await withServer(database, adjust: Self.slowPoll) { server in
            let token = try await server.login()
            // The consumers have made their first pass once each holds its lease.
            _ = try await Self.waitUntil("policy re-evaluation holds its lease", within: 10) {
                server.app.mtd.consumers.holdsLease("policy-reevaluation")
            }
            _ = try await Self.waitUntil("the first pass", within: 15) {
                let head = try await EventLog.head(on: server.app.db)
                return try await Self.position("policy-reevaluation", server) == head
            }
            // An agent activates: a DEVICE event commits, and the consumer (which reads AUDIT events,
            // but moves its cursor to the head it saw) follows within a moment, not a minute.
            _ = try await server.activate(udid: "wake-\(database.rawValue)")
            let head = try await EventLog.head(on: server.app.db)
            // The poll is 60 s: seconds mean the commit woke it (beside the parallel suite it has taken over 2 s).
            let took = try await Self.waitUntil("the consumer woke", within: 8) { try await Self.position("policy-reevaluation", server) >= head }
            #expect(took < 8)

            // A policy change is re-evaluated by the consumer, not by the request.
            let agent = try await server.activate(udid: "reeval-\(database.rawValue)")
            let document = Documents.android(apps: [Documents.stalkerware], inventoryVersion: 1, complete: true)
            #expect(try await server.checkIn(agent, document).json["securityStatus"] as? String == "THREATS_HIGH")
            #expect(try await server.send(.PUT, "/api/v1/policy", token: token, json: ["severities": ["SURVEILLANCEWARE": "LOW", "SIDELOADED_APP": "LOW"]]).status == 200)
            let deviceID = try #require(UUID(uuidString: agent.deviceID))
            _ = try await Self.waitUntil("the fleet was re-evaluated", within: 15) {
                try await DeviceModel.find(deviceID, on: server.app.db)?.securityStatus == .threatsLow
            }
        }
    }

    @Test func aCommitInOneReplicaWakesTheLeaseHolderInAnother() async throws {
        guard TestDatabase.available.contains(.postgres) else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("openmtd-replicas-\(UUID().uuidString)").path
        let first = try await TestServer.start(.postgres, dataDirectory: folder, adjust: Self.slowPoll)
        let second: TestServer
        do {
            second = try await TestServer.start(.postgres, dataDirectory: folder, keepData: true, adjust: Self.slowPoll)
        } catch {
            try await first.stop()
            throw error
        }
        do {
            let name = "policy-reevaluation"
            _ = try await Self.waitUntil("one replica holds the lease", within: 10) {
                first.app.mtd.consumers.holdsLease(name) || second.app.mtd.consumers.holdsLease(name)
            }
            let (holder, other) = first.app.mtd.consumers.holdsLease(name) ? (first, second) : (second, first)
            #expect(!other.app.mtd.consumers.holdsLease(name), "never both")
            _ = try await Self.waitUntil("the first pass", within: 15) {
                let head = try await EventLog.head(on: holder.app.db)
                return try await Self.position(name, holder) == head
            }

            // The event commits in the replica without the lease; only NOTIFY can wake the holder.
            _ = try await other.activate(udid: "cross-replica")
            let head = try await EventLog.head(on: other.app.db)
            // The holder polls every 60 s, so a wake-up within seconds can only be the NOTIFY (under
            // the parallel suite on two cores it has taken 2.5 s).
            let took = try await Self.waitUntil("the holder woke", within: 8) { try await Self.position(name, holder) >= head }
            #expect(took < 8)

            // Both replicas show the same holder in the admin API and in /metrics.
            let token = try await other.login()
            let seen = try await Self.consumer(name, in: other, token: token)
            #expect(seen["leaseHolder"] as? String == holder.app.mtd.consumers.holder)
            #expect(seen["holdsLease"] as? Bool == false)
            let metrics = try await other.send(.GET, "/metrics").text
            #expect(metrics.contains("openmtd_consumer_lease_holder{consumer=\"\(name)\",holder=\"\(holder.app.mtd.consumers.holder)\"} 1"))
            #expect(metrics.contains("openmtd_consumer_lease_held{consumer=\"\(name)\"} 0"))
            #expect(metrics.contains("openmtd_consumer_lag_events{consumer=\"\(name)\"}"))

            // The holder stops without giving the leases up (as if killed): the other replica takes
            // every lease over once it expires, within 10 s.
            holder.app.mtd.consumers.halt()
            let takeover = try await Self.waitUntil("the other replica took over", within: 12) {
                other.app.mtd.consumers.holdsLease(name) && other.app.mtd.consumers.holdsLease("uem-tags")
                    && other.app.mtd.consumers.holdsLease("connection-sweeper")
            }
            #expect(takeover < 10)
            #expect(!holder.app.mtd.consumers.holdsLease(name))
            print("lease takeover after the holder stopped renewing: \(String(format: "%.1f", takeover)) s")
        } catch {
            try await second.stop()
            try await first.stop()
            throw error
        }
        // A clean stop gives the leases up: the remaining replica takes them at its next renewal.
        try await first.stop()
        let handedOver = try await Self.waitUntil("the remaining replica holds every lease", within: 5) {
            ["policy-reevaluation", "uem-tags", "connection-sweeper"].allSatisfy { second.app.mtd.consumers.holdsLease($0) }
        }
        #expect(handedOver < 5)
        try await second.stop()
    }

    /// Failed activations count against the client on every replica, and behind a trusted proxy
    /// the client is the address in X-Forwarded-For, not the proxy.
    @Test func rateLimitsHoldAcrossReplicasAndSeeThroughTheProxy() async throws {
        let database: TestDatabase = TestDatabase.available.contains(.postgres) ? .postgres : .sqlite
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("openmtd-limits-\(UUID().uuidString)").path
        let limits: (inout ServerConfiguration) -> Void = { configuration in
            configuration.activationAttemptsPerMinute = 4
            configuration.trustedProxies = ["127.0.0.1"]
        }
        let first = try await TestServer.start(database, dataDirectory: folder, adjust: limits)
        let second: TestServer
        do {
            second = try await TestServer.start(database, dataDirectory: folder, keepData: true, adjust: limits)
        } catch {
            try await first.stop()
            throw error
        }
        do {
            func guess(_ server: TestServer, from client: String) async throws -> Int {
                let body = Data(#"{"enrollmentCode":"GUES-SING-XXXX","platform":"IOS","mode":"EMBEDDED","udid":"guesser"}"#.utf8)
                return try await server.sendRaw(.POST, "/agent/v1/activate", headers: ["Content-Type": "application/json", "X-Forwarded-For": client], body: body).status
            }
            // Four failures spread over two replicas use up the client's four attempts.
            for server in [first, second, first, second] { #expect(try await guess(server, from: "198.51.100.7") == 403) }
            #expect(try await guess(first, from: "198.51.100.7") == 429)
            #expect(try await guess(second, from: "198.51.100.7") == 429)
            // Another client behind the same proxy is not affected.
            #expect(try await guess(second, from: "198.51.100.8") == 403)
        } catch {
            try await second.stop()
            try await first.stop()
            throw error
        }
        try await second.stop()
        try await first.stop()
    }

    @Test func theConsoleShowsEachConsumerAndItsLeaseHolder() async throws {
        try await withServer(.sqlite) { server in
            _ = try await Self.waitUntil("UEM sync holds its lease", within: 10) { server.app.mtd.consumers.holdsLease("uem-tags") }
            var browser = ConsoleHTTPTests.Browser(server: server)
            _ = try await browser.login("owner@example.com", "owner-password-1234")
            let page = try await browser.send(.GET, "/console/integrations")
            #expect(page.status == 200)
            let table = try #require(page.text.range(of: "<table id=\"consumers\">").map { String(page.text[$0.lowerBound...]) })
            for name in ["uem-tags", "connection-sweeper", "policy-reevaluation"] {
                #expect(table.contains("<td>\(name)</td>"))
            }
            #expect(table.contains(server.app.mtd.consumers.holder + " (this replica)"))
        }
    }
}
