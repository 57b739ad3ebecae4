import Crypto
import FluentKit
import Foundation
import MTDAutomations
@testable import MTDServer
import MTDStore
import NIOConcurrencyHelpers
import TestSupport
import Testing
import Vapor

/// A webhook receiver on loopback, the way a SOAR's endpoint would be: it records every call and
/// answers 200, or 503 for its first `failFirst` calls, or always 500 at `/broken`.
final class WebhookReceiver: Sendable {
    struct Call: Sendable {
        var path: String
        var headers: HTTPHeaders
        var body: Data
        var at: Date
    }

    let app: Application
    let baseURL: String
    private let state: NIOLockedValueBox<(calls: [Call], failFirst: Int)>

    private init(app: Application, baseURL: String, state: NIOLockedValueBox<(calls: [Call], failFirst: Int)>) {
        self.app = app
        self.baseURL = baseURL
        self.state = state
    }

    static func start(failFirst: Int = 0) async throws -> WebhookReceiver {
        let app = try await Application.make(Environment(name: "testing", arguments: ["vapor"]))
        app.logger.logLevel = .error
        app.http.server.configuration.hostname = "127.0.0.1"
        app.http.server.configuration.port = 0
        let state = NIOLockedValueBox<(calls: [Call], failFirst: Int)>((calls: [], failFirst: failFirst))
        let record: @Sendable (Request) -> Int = { req in
            let body = req.body.data.map { Data($0.readableBytesView) } ?? Data()
            return state.withLockedValue { state in
                state.calls.append(Call(path: req.url.path, headers: req.headers, body: body, at: Date()))
                if req.url.path == "/broken" { return 500 }
                if state.failFirst > 0 {
                    state.failFirst -= 1
                    return 503
                }
                return 200
            }
        }
        for path in ["hook", "broken"] {
            app.on(.POST, PathComponent(stringLiteral: path), body: .collect(maxSize: "1mb")) { req -> Response in
                Response(status: HTTPResponseStatus(statusCode: record(req)))
            }
        }
        try await app.startup()
        let port = try #require(app.http.server.shared.localAddress?.port)
        return WebhookReceiver(app: app, baseURL: "http://127.0.0.1:\(port)", state: state)
    }

    var calls: [Call] { state.withLockedValue { $0.calls } }

    func stop() async throws {
        await app.server.shutdown()
        try await app.asyncShutdown()
    }

    /// Checks `X-OpenMTD-Signature` as a receiver must: HMAC-SHA256 of "<t>.<body>", and `t` within 5 minutes.
    static func signatureIsValid(_ call: Call, secret: String, now: Date = Date()) -> Bool {
        guard let header = call.headers.first(name: "X-OpenMTD-Signature") else { return false }
        var fields: [String: String] = [:]
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
        }
        guard let t = fields["t"], let seconds = Double(t), let v1 = fields["v1"], abs(now.timeIntervalSince1970 - seconds) < 300 else { return false }
        var message = Data("\(t).".utf8)
        message.append(call.body)
        let expected = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
        return expected.map { String(format: "%02x", $0) }.joined() == v1
    }
}

/// Automations over real HTTP on SQLite and PostgreSQL: rules from the admin API, threats from real
/// check-ins, webhooks to a real receiver that checks the signature.
@Suite(.serialized) struct AutomationTests {
    static let secret = "receiver-shared-secret-0001"

    static func stalkerwareRule(_ url: String, name: String = "Stalkerware to SOAR", conditions: [String: Any]? = nil,
                                throttle: Int? = nil, format: String = "json") -> [String: Any] {
        var rule: [String: Any] = [
            "name": name, "enabled": true,
            "trigger": ["type": "THREAT", "change": "CREATED", "classifications": ["SURVEILLANCEWARE"], "minimumSeverity": "MEDIUM"],
            "actions": [["type": "webhook", "url": url, "secret": secret, "format": format]],
        ]
        if let conditions { rule["conditions"] = conditions }
        if let throttle { rule["throttleSeconds"] = throttle }
        return rule
    }

    static func stalkerware(_ server: TestServer, _ agent: TestServer.Agent, version: Int = 1) async throws {
        let reply = try await server.checkIn(agent, Documents.android(apps: [["id": "com.whatsapp", "source": "PLAY_STORE"], Documents.stalkerware], inventoryVersion: version))
        #expect(reply.status == 200, "\(reply.text)")
    }

    static func executions(_ server: TestServer, token: String, query: String = "") async throws -> [[String: Any]] {
        let reply = try await server.send(.GET, "/api/v1/automations/executions" + query, token: token)
        #expect(reply.status == 200, "\(reply.text)")
        return reply.json["executions"] as? [[String: Any]] ?? []
    }

    @Test(arguments: TestDatabase.available)
    func aStalkerwareThreatCallsTheSignedWebhookOnceEvenWhenTheEventsComeAgain(_ database: TestDatabase) async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { try? await receiver.stop() } }
        try await withServer(database) { server in
            let owner = try await server.login()
            let created = try await server.send(.POST, "/api/v1/automations", token: owner, json: Self.stalkerwareRule(receiver.baseURL + "/hook"))
            #expect(created.status == 201, "\(created.text)")
            let actions = try #require(created.json["actions"] as? [[String: Any]])
            #expect(actions.first?["secret"] as? String == "(hidden)", "a saved secret is never shown again")
            #expect(!created.text.contains(Self.secret))

            let agent = try await server.activate(udid: "automation-phone")
            let clean = try await server.checkIn(agent, Documents.android())
            #expect(clean.status == 200)
            try await Self.stalkerware(server, agent, version: 2)
            let delivered = try await Wait.until(within: 15) { receiver.calls.count >= 1 }
            #expect(delivered != nil, "the webhook was not called")
            let call = try #require(receiver.calls.first)
            #expect(WebhookReceiver.signatureIsValid(call, secret: Self.secret), "\(call.headers)")
            #expect(!WebhookReceiver.signatureIsValid(call, secret: "another-secret-of-this-length"))
            let body = try #require(try JSONSerialization.jsonObject(with: call.body) as? [String: Any])
            let event = try #require(body["event"] as? [String: Any])
            #expect(event["type"] as? String == "THREAT")
            #expect(event["change_type"] as? String == "CREATED")
            #expect((event["created_time"] as? String)?.hasSuffix("+00:00") == true, "\(event)")
            let threat = try #require(event["threat"] as? [String: Any])
            #expect(threat["classifications"] as? [String] == ["SURVEILLANCEWARE"])
            #expect((body["device"] as? [String: Any])?["guid"] as? String == agent.deviceID.lowercased())
            #expect((body["rule"] as? [String: Any])?["name"] as? String == "Stalkerware to SOAR")
            let key = try #require(call.headers.first(name: "X-OpenMTD-Idempotency-Key"))

            // The same events delivered again (at-least-once delivery after a crash): nothing new is sent.
            let events = try await EventLog.read(after: 0, enterpriseID: server.enterpriseID, types: Automations.eventTypes, limit: 1000, on: server.app.db)
            try await server.app.mtd.automations.process(events, on: server.app.db)
            try await server.app.mtd.automations.runDue(on: server.app.db, now: { Date() })
            try await Task.sleep(nanoseconds: 1_500_000_000)
            #expect(receiver.calls.count == 1, "sent again: \(receiver.calls.map(\.path))")

            let executions = try await Self.executions(server, token: owner, query: "?deviceId=\(agent.deviceID)")
            #expect(executions.count == 1)
            #expect(executions.first?["status"] as? String == "SUCCEEDED")
            #expect(executions.first?["attempts"] as? Int == 1)
            #expect(executions.first?["idempotencyKey"] as? String == key)
            #expect(executions.first?["responseStatus"] as? Int == 200)

            // Resolving the threat is an UPDATED event: this CREATED-only rule stays quiet.
            let resolved = try await server.checkIn(agent, Documents.android(inventoryVersion: 3))
            #expect(resolved.status == 200)
            try await Task.sleep(nanoseconds: 1_500_000_000)
            #expect(receiver.calls.count == 1)
        }
    }

    @Test func failedCallsAreRetriedWithTheSameKeyAndEndOnTheDeadLetterList() async throws {
        let receiver = try await WebhookReceiver.start(failFirst: 2)
        defer { Task { try? await receiver.stop() } }
        try await withServer(.sqlite, adjust: { $0.automations.firstRetrySeconds = 0.3; $0.automations.maxAttempts = 3 }) { server in
            let owner = try await server.login()
            for (name, path) in [("flaky", "/hook"), ("broken", "/broken")] {
                let created = try await server.send(.POST, "/api/v1/automations", token: owner, json: Self.stalkerwareRule(receiver.baseURL + path, name: name))
                #expect(created.status == 201, "\(created.text)")
            }
            let agent = try await server.activate(udid: "retry-phone")
            try await Self.stalkerware(server, agent)
            let settled = try await Wait.until(within: 20) {
                let executions = try await Self.executions(server, token: owner)
                return executions.count == 2 && executions.allSatisfy { $0["status"] as? String != "PENDING" }
            }
            let states = try await Self.executions(server, token: owner).map { "\($0["status"] ?? "")" }
            #expect(settled != nil, "\(states)")
            let hook = receiver.calls.filter { $0.path == "/hook" }
            #expect(hook.count == 3, "two 503s, then 200")
            #expect(Set(hook.compactMap { $0.headers.first(name: "X-OpenMTD-Idempotency-Key") }).count == 1, "every attempt carries the same key")
            #expect(receiver.calls.filter { $0.path == "/broken" }.count == 3, "maxAttempts calls, no more")
            let dead = try await Self.executions(server, token: owner, query: "?status=DEAD")
            #expect(dead.count == 1)
            #expect(dead.first?["responseStatus"] as? Int == 500)
            #expect((dead.first?["lastError"] as? String)?.contains("500") == true)
            let succeeded = try await Self.executions(server, token: owner, query: "?status=SUCCEEDED")
            #expect(succeeded.first?["attempts"] as? Int == 3)
        }
    }

    @Test func aDelayedActionSurvivesARestartAndFiresOnlyWhileTheThreatIsOpen() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { try? await receiver.stop() } }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("openmtd-automation-\(UUID().uuidString)").path
        var openDevice = ""
        var startedAt = Date()
        try await withServer(.sqlite, dataDirectory: folder) { server in
            let owner = try await server.login()
            let rule = Self.stalkerwareRule(receiver.baseURL + "/hook", name: "Unresolved after 5 s", conditions: ["stillOpenAfterSeconds": 5])
            let created = try await server.send(.POST, "/api/v1/automations", token: owner, json: rule)
            #expect(created.status == 201, "\(created.text)")
            let stays = try await server.activate(udid: "stays-infected")
            let cleans = try await server.activate(udid: "cleans-up")
            startedAt = Date()
            try await Self.stalkerware(server, stays)
            try await Self.stalkerware(server, cleans)
            openDevice = stays.deviceID.lowercased()
            // One device removes the app before the delay ends: its action must not fire.
            let removed = try await server.checkIn(cleans, Documents.android(inventoryVersion: 2))
            #expect(removed.status == 200)
            let pending = try await Wait.until(within: 10) {
                try await Self.executions(server, token: owner, query: "?status=PENDING").count == 2
            }
            #expect(pending != nil)
        }
        #expect(receiver.calls.isEmpty, "nothing is sent before the delay")
        try await withServer(.sqlite, dataDirectory: folder) { server in
            let owner = try await server.login()
            let settled = try await Wait.until(within: 15) {
                try await Self.executions(server, token: owner, query: "?status=PENDING").isEmpty
            }
            #expect(settled != nil)
            try await Task.sleep(nanoseconds: 1_000_000_000)
            #expect(receiver.calls.count == 1, "exactly once across the restart")
            let call = try #require(receiver.calls.first)
            #expect(call.at.timeIntervalSince(startedAt) >= 5, "not before the delay")
            let body = try JSONSerialization.jsonObject(with: call.body) as? [String: Any]
            #expect((body?["device"] as? [String: Any])?["guid"] as? String == openDevice)
            let skipped = try await Self.executions(server, token: owner, query: "?status=SKIPPED")
            #expect(skipped.count == 1)
            #expect((skipped.first?["lastError"] as? String)?.contains("no longer open") == true)
        }
    }

    @Test func slackAndTeamsReceiveTheirOwnMessageShapes() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { try? await receiver.stop() } }
        try await withServer(.sqlite) { server in
            let owner = try await server.login()
            for format in ["slack", "teams"] {
                let created = try await server.send(.POST, "/api/v1/automations", token: owner,
                                                    json: Self.stalkerwareRule(receiver.baseURL + "/hook", name: format, format: format))
                #expect(created.status == 201, "\(created.text)")
            }
            try await Self.stalkerware(server, try await server.activate(udid: "chat-phone"))
            #expect(try await Wait.until(within: 15) { receiver.calls.count == 2 } != nil)
            let bodies = receiver.calls.compactMap { try? JSONSerialization.jsonObject(with: $0.body) as? [String: Any] }
            let slack = try #require(bodies.first { $0["blocks"] != nil })
            #expect((slack["text"] as? String)?.contains("SURVEILLANCEWARE") == true, "\(slack)")
            let teams = try #require(bodies.first { $0["@type"] as? String == "MessageCard" })
            #expect((teams["title"] as? String)?.contains("HIGH threat SURVEILLANCEWARE") == true, "\(teams)")
            #expect(teams["themeColor"] as? String == "D70000")
        }
    }

    @Test func theDryRunSaysWhatTheRuleThenDoesLive() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { try? await receiver.stop() } }
        try await withServer(.sqlite) { server in
            let owner = try await server.login()
            // Three devices; the first gets a second stalkerware app, which the hour's throttle holds back.
            let created = try await server.send(.POST, "/api/v1/automations", token: owner, json: Self.stalkerwareRule(receiver.baseURL + "/hook"))
            let id = try #require(created.json["id"] as? String)
            var agents: [TestServer.Agent] = []
            for index in 0..<3 { agents.append(try await server.activate(udid: "dry-\(index)")) }
            for agent in agents { try await Self.stalkerware(server, agent) }
            // A second stalkerware app on the first device: a new threat, within the throttle's hour.
            let second = try await server.checkIn(agents[0], Documents.android(
                apps: [["id": "com.whatsapp", "source": "PLAY_STORE"], Documents.stalkerware, ["id": "com.ispyoo", "source": "SIDELOADED"]], inventoryVersion: 2))
            #expect(second.status == 200, "\(second.text)")
            #expect(try await Wait.until(within: 15) { receiver.calls.count >= 3 } != nil)
            try await Task.sleep(nanoseconds: 1_500_000_000)
            #expect(receiver.calls.count == 3, "the repeat on the first device is throttled")

            let dry = try await server.send(.POST, "/api/v1/automations/\(id)/dry-run?days=1", token: owner, json: [String: Any]())
            #expect(dry.status == 200, "\(dry.text)")
            #expect(dry.json["triggered"] as? Int == 4, "\(dry.text)")
            #expect(dry.json["wouldRun"] as? Int == receiver.calls.count, "\(dry.text)")
            #expect((dry.json["devices"] as? [[String: Any]])?.count == 3)
            let reasons = (dry.json["examples"] as? [[String: Any]] ?? []).compactMap { $0["reason"] as? String }
            #expect(reasons.contains { $0.hasPrefix("throttled") }, "\(reasons)")
            let bad = try await server.send(.POST, "/api/v1/automations/\(id)/dry-run?days=999", token: owner, json: [String: Any]())
            #expect(bad.status == 400)
            #expect(bad.errorField == "days")
        }
    }

    /// Each case replaces some top-level fields of a good rule.
    @Test(arguments: [
        (#"{"trigger":{"type":"THREAT","classificaton":["SURVEILLANCEWARE"]}}"#, "$.trigger.classificaton"),
        (#"{"trigger":{"type":"THREAT","minimumSeverity":"SEVERE"}}"#, "$.trigger.minimumSeverity"),
        (#"{"trigger":{"type":"DEVICE","classifications":["SURVEILLANCEWARE"]}}"#, "$.trigger.classifications"),
        (#"{"trigger":{"type":"DEVICE","connectionTo":"DISCONNECTED"},"conditions":{"stillOpenAfterSeconds":60}}"#, "$.conditions.stillOpenAfterSeconds"),
        (#"{"conditions":{"count":3}}"#, "$.conditions.withinSeconds"),
        (#"{"conditions":{"timeOfDay":{"from":"25:00","to":"06:00"}}}"#, "$.conditions.timeOfDay.from"),
        (#"{"throttleSeconds":-1}"#, "$.throttleSeconds"),
        (#"{"actions":[{"type":"email","to":"soc@example.com"}]}"#, "$.actions[0].to"),
        (#"{"actions":[{"type":"email","to":"addresses","addresses":["not an address"]}]}"#, "$.actions[0].addresses[0]"),
        (#"{"actions":[{"type":"e-mail","to":"admins"}]}"#, "$.actions[0].type"),
        (#"{"actions":[{"type":"webhook","url":"http://127.0.0.1:9/hook","secret":"short"}]}"#, "$.actions[0].secret"),
        (#"{"actions":[{"type":"webhook","url":"ftp://example.com/x","secret":"long-enough-secret-1234"}]}"#, "$.actions[0].url"),
        (#"{"actions":[]}"#, "$.actions"),
        (#"{"name":""}"#, "$.name"),
    ])
    func badRulesNameTheFieldToFix(_ change: String, _ field: String) async throws {
        let replacements = try #require(try JSONSerialization.jsonObject(with: Data(change.utf8)) as? [String: Any])
        try await withServer(.sqlite) { server in
            let owner = try await server.login()
            var rule = Self.stalkerwareRule("http://127.0.0.1:9/hook")
            for (key, value) in replacements { rule[key] = value }
            let reply = try await server.send(.POST, "/api/v1/automations", token: owner, json: rule)
            #expect(reply.status == 400, "\(reply.text)")
            #expect(reply.errorField == field, "\(reply.text)")
        }
    }

    @Test func aRuleSentBackWithItsHiddenSecretKeepsSigningWithTheStoredOne() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { try? await receiver.stop() } }
        try await withServer(.sqlite) { server in
            let owner = try await server.login()
            let url = receiver.baseURL + "/hook"
            let created = try await server.send(.POST, "/api/v1/automations", token: owner, json: Self.stalkerwareRule(url))
            let id = try #require(created.json["id"] as? String)
            var readBack = Self.stalkerwareRule(url, name: "Renamed, secret as shown")
            var actions = try #require(readBack["actions"] as? [[String: Any]])
            actions[0]["secret"] = "(hidden)"
            readBack["actions"] = actions
            // A moved or new webhook cannot borrow a secret.
            var moved = readBack
            moved["actions"] = [actions[0].merging(["url": url + "/elsewhere"]) { _, new in new }]
            let refused = try await server.send(.PUT, "/api/v1/automations/\(id)", token: owner, json: moved)
            #expect(refused.status == 400, "\(refused.text)")
            #expect(refused.errorField == "$.actions[0].secret")
            let updated = try await server.send(.PUT, "/api/v1/automations/\(id)", token: owner, json: readBack)
            #expect(updated.status == 200, "\(updated.text)")
            #expect(updated.json["version"] as? Int == 2)

            let agent = try await server.activate(udid: "hidden-secret-phone")
            #expect(try await server.checkIn(agent, Documents.android()).status == 200)
            try await Self.stalkerware(server, agent, version: 2)
            let delivered = try await Wait.until(within: 15) { receiver.calls.count >= 1 }
            #expect(delivered != nil, "the webhook was not called")
            let call = try #require(receiver.calls.first)
            #expect(WebhookReceiver.signatureIsValid(call, secret: Self.secret), "signed with the stored secret, not with \"(hidden)\"")
        }
    }

    @Test func rulesAreManagedByOwnersAndAnalystsAndAudited() async throws {
        try await withServer(.sqlite) { server in
            let owner = try await server.login()
            // The egress policy refuses cloud metadata addresses whatever else it allows.
            let metadata = try await server.send(.POST, "/api/v1/automations", token: owner, json: Self.stalkerwareRule("http://169.254.169.254/latest"))
            #expect(metadata.status == 422, "\(metadata.text)")
            #expect(metadata.errorField == "$.actions[0].url")
            let created = try await server.send(.POST, "/api/v1/automations", token: owner, json: Self.stalkerwareRule("http://127.0.0.1:9/hook"))
            let id = try #require(created.json["id"] as? String)
            #expect(created.json["version"] as? Int == 1)
            var changed = Self.stalkerwareRule("http://127.0.0.1:9/hook", name: "Renamed")
            changed["enabled"] = false
            let updated = try await server.send(.PUT, "/api/v1/automations/\(id)", token: owner, json: changed)
            #expect(updated.status == 200, "\(updated.text)")
            #expect(updated.json["version"] as? Int == 2)
            #expect(updated.json["enabled"] as? Bool == false)
            let list = try await server.send(.GET, "/api/v1/automations", token: owner)
            #expect((list.json["automations"] as? [[String: Any]])?.map { $0["name"] as? String } == ["Renamed"])
            let audit = try await server.send(.GET, "/api/v1/audit", token: owner)
            #expect(audit.text.contains("AUTOMATION"), "\(audit.text)")
            let deleted = try await server.send(.DELETE, "/api/v1/automations/\(id)", token: owner)
            #expect(deleted.status == 204)
            let gone = try await server.send(.GET, "/api/v1/automations/\(id)", token: owner)
            #expect(gone.status == 404)
        }
    }
}
