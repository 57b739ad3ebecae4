import AsyncHTTPClient
import FluentKit
import Foundation
import Logging
import MTDCore
import MTDServices
import MTDStore
import NIOConcurrencyHelpers
import UEMClient

/// Automations: rules that act on the event log's THREAT and DEVICE events. The server runs
/// `process` as an event-log consumer under a lease (one replica acts) and `runDue` on its ticks;
/// the admin API and the console call the rule functions (`RuleStore`).
///
/// Delivered: webhooks (JSON in the Lookout v2 event shape, Slack and Teams formats, signed), UEM
/// device commands (message, lock, sync, wipes with confirmation, tags, threat level), e-mail over
/// SMTP with remediation steps, retries with backoff and a dead-letter state, idempotency per
/// (rule, event, action), ordered actions per run, delays (still open, still in a state; persisted,
/// so they survive restarts and failover), count-within-window and time-of-day conditions, per-device
/// throttling, device-group filters (UEM tags and smart groups, asked of the UEM), daily digests,
/// templates and dry runs.
public final class Automations: Sendable {
    public struct Settings: Sendable, Codable, Equatable {
        /// Attempts per action before it goes to the dead-letter list.
        public var maxAttempts = 6
        /// The first retry waits this long; each further one twice as long (2, 4, 8, 16, 32 s).
        public var firstRetrySeconds = 2.0
        /// How long a webhook receiver has to answer.
        public var requestTimeoutSeconds = 10.0
        /// Actions run at once, across rules: a slow receiver does not hold up the others.
        public var concurrentActions = 16
        /// Events a dry run reads at most.
        public var dryRunEventLimit = 200_000
        public init() {}
    }

    public let settings: Settings
    let writes: WriteGate
    let egress: EgressGuard
    let http: HTTPClient
    let uemSender = NIOLockedValueBox<(any UEMCommandSending)?>(nil)
    let dueGate = RunGate()
    /// Signalled when `process` recorded executions, so the task that performs them (the
    /// consumer's tick) starts at once instead of at its next period.
    package let recorded = EventSignal()
    private let digestsScheduledAt = NIOLockedValueBox(Date.distantPast)
    /// The last batch's rule index and the rule ids and versions it was built from.
    let indexCache = NIOLockedValueBox<(signature: [String], index: RuleIndex<AutomationRuleModel>)?>(nil)
    let logger = Logger(label: "openmtd.automations")

    package init(settings: Settings, writes: WriteGate, egress: EgressGuard, http: HTTPClient = EgressHTTP.client) {
        self.settings = settings
        self.writes = writes
        self.egress = egress
        self.http = http
    }

    /// Digest runs are looked for at most once a second, however often the tick is woken.
    public func scheduleDigestsIfDue(on database: any Database, now: Date) async throws {
        let due = digestsScheduledAt.withLockedValue { last in
            guard now.timeIntervalSince(last) >= 1 || now < last else { return false }
            last = now
            return true
        }
        if due { try await scheduleDigests(on: database, now: now) }
    }

    public static var migrations: [any Migration] { [AUT001_CreateAutomations(), AUT002_CreateSMTPSettings(), AUT003_CreateThreatLevelPins()] }

    /// The cursor's and the lease's name.
    public static let consumerName = "automations"
    public static let eventTypes = EventFacts.kinds
}

/// Why a rule operation was refused; the admin API maps these onto its error format.
public enum AutomationError: Error, Sendable, Equatable {
    case invalid(DocumentError)
    case notFound
    /// A webhook URL the egress policy refuses (field, reason).
    case egressRefused(field: String, reason: String)
}
