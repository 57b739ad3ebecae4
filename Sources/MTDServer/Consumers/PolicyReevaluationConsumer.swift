import FluentKit
import Foundation
import Logging
import MTDStore

/// Evaluates an enterprise's devices again after its policy changed (an AUDIT event of type
/// CLASSIFICATION_POLICY), so severities and security statuses follow the new policy without
/// waiting for check-ins. Through the log rather than a task of the request: a restart in the
/// middle picks the work up again, and only one replica does it.
struct PolicyReevaluationConsumer: EventConsumer {
    let reevaluator: Reevaluator
    let logger: Logger

    var name: String { "policy-reevaluation" }
    var eventTypes: [EventType]? { [.audit] }
    var startsAtHead: Bool { true }
    var coalesceSeconds: Double { 0.2 }

    func process(_ events: [EventModel], on database: any Database) async throws {
        var enterprises: [UUID] = []
        for event in events where event.auditType == "CLASSIFICATION_POLICY" && !enterprises.contains(event.enterpriseID) {
            enterprises.append(event.enterpriseID)
        }
        for enterpriseID in enterprises {
            let count = try await reevaluator.reevaluate(enterpriseID: enterpriseID, on: database)
            logger.info("re-evaluated devices after a policy change", metadata: ["devices": "\(count)", "enterprise": "\(enterpriseID)"])
        }
    }
}
