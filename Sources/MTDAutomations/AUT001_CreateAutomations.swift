import FluentKit
import SQLKit

/// Automation rules, the events that triggered them and their actions' executions.
struct AUT001_CreateAutomations: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(AutomationRuleModel.schema)
            .id()
            .field("enterprise_id", .uuid, .required)
            .field("name", .string, .required)
            .field("enabled", .bool, .required)
            .field("document", .string, .required)
            .field("owner", .string, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .field("version", .int, .required)
            .create()
        try await database.schema(AutomationTriggerModel.schema)
            .id()
            .field("enterprise_id", .uuid, .required)
            .field("rule_id", .uuid, .required, .references(AutomationRuleModel.schema, .id, onDelete: .cascade))
            .field("event_id", .int64, .required)
            .field("device_id", .uuid)
            .field("triggered_at", .datetime, .required)
            .field("runs", .bool, .required)
            .field("reason", .string, .required)
            .unique(on: "rule_id", "event_id")
            .create()
        try await database.schema(AutomationExecutionModel.schema)
            .id()
            .field("enterprise_id", .uuid, .required)
            .field("rule_id", .uuid, .required, .references(AutomationRuleModel.schema, .id, onDelete: .cascade))
            .field("rule_version", .int, .required)
            .field("event_id", .int64, .required)
            .field("device_id", .uuid)
            .field("threat_id", .uuid)
            .field("action_index", .int, .required)
            .field("action_type", .string, .required)
            .field("idempotency_key", .string, .required)
            .field("status", .string, .required)
            .field("attempts", .int, .required)
            .field("due_at", .datetime, .required)
            .field("requires_open_threat", .bool, .required)
            .field("last_error", .string)
            .field("response_status", .int)
            .field("created_at", .datetime, .required)
            .field("completed_at", .datetime)
            .unique(on: "idempotency_key")
            .create()
        // The runner's question, every second: what is due now.
        if let sql = database as? any SQLDatabase {
            try await sql.create(index: "automation_executions_due").on(AutomationExecutionModel.schema).column("status").column("due_at").run()
            try await sql.create(index: "automation_triggers_rule_device").on(AutomationTriggerModel.schema)
                .column("rule_id").column("device_id").column("triggered_at").run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema(AutomationExecutionModel.schema).delete()
        try await database.schema(AutomationTriggerModel.schema).delete()
        try await database.schema(AutomationRuleModel.schema).delete()
    }
}
