import FluentKit
import Foundation

/// A stored automation rule: the document as the admin wrote it, plus who owns it.
public final class AutomationRuleModel: Model, @unchecked Sendable {
    public static let schema = "automation_rules"

    @ID(key: .id) public var id: UUID?
    @Field(key: "enterprise_id") public var enterpriseID: UUID
    @Field(key: "name") public var name: String
    @Field(key: "enabled") public var enabled: Bool
    /// The `AutomationRule` document, JSON.
    @Field(key: "document") public var document: String
    /// The admin who created it (e-mail).
    @Field(key: "owner") public var owner: String
    @Field(key: "created_at") public var createdAt: Date
    @Field(key: "updated_at") public var updatedAt: Date
    /// Bumped on every change, so an execution can say which version of the rule made it.
    @Field(key: "version") public var version: Int

    public init() {}
}

/// One event that started a rule for a device, whether or not the rule ran: the unique (rule,
/// event) pair is what makes a repeated delivery of the event a no-op, and the rows are the history
/// the count condition and the throttle look at.
public final class AutomationTriggerModel: Model, @unchecked Sendable {
    public static let schema = "automation_triggers"

    @ID(key: .id) public var id: UUID?
    @Field(key: "enterprise_id") public var enterpriseID: UUID
    @Field(key: "rule_id") public var ruleID: UUID
    @Field(key: "event_id") public var eventID: Int
    @OptionalField(key: "device_id") public var deviceID: UUID?
    /// The event's time (not when it was processed), so that replays and live runs agree.
    @Field(key: "triggered_at") public var triggeredAt: Date
    @Field(key: "runs") public var runs: Bool
    @Field(key: "reason") public var reason: String

    public init() {}
}

/// Where an action's execution stands.
public enum ExecutionStatus: String, Codable, Sendable, CaseIterable {
    /// Due at `dueAt` (at once, after a delay, or after a failed attempt).
    case pending = "PENDING"
    case succeeded = "SUCCEEDED"
    /// Every attempt failed: on the dead-letter list.
    case dead = "DEAD"
    /// Not run: the threat was no longer open when the delay ran out, or an earlier action of the
    /// same run died.
    case skipped = "SKIPPED"
}

/// One action of one run: the idempotency key (rule, event, action) is unique, so an action is
/// never sent twice for the same cause, whatever the event log delivers again.
public final class AutomationExecutionModel: Model, @unchecked Sendable {
    public static let schema = "automation_executions"

    @ID(key: .id) public var id: UUID?
    @Field(key: "enterprise_id") public var enterpriseID: UUID
    @Field(key: "rule_id") public var ruleID: UUID
    @Field(key: "rule_version") public var ruleVersion: Int
    @Field(key: "event_id") public var eventID: Int
    @OptionalField(key: "device_id") public var deviceID: UUID?
    @OptionalField(key: "threat_id") public var threatID: UUID?
    @Field(key: "action_index") public var actionIndex: Int
    @Field(key: "action_type") public var actionType: String
    @Field(key: "idempotency_key") public var idempotencyKey: String
    @Field(key: "status") public var status: ExecutionStatus
    @Field(key: "attempts") public var attempts: Int
    @Field(key: "due_at") public var dueAt: Date
    /// Whether the run waits for the threat to be still open when it is due.
    @Field(key: "requires_open_threat") public var requiresOpenThreat: Bool
    @OptionalField(key: "last_error") public var lastError: String?
    @OptionalField(key: "response_status") public var responseStatus: Int?
    @Field(key: "created_at") public var createdAt: Date
    @OptionalField(key: "completed_at") public var completedAt: Date?

    public init() {}
}
