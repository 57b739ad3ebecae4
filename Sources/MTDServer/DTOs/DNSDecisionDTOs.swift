import Foundation
import Vapor

/// `GET /api/v1/dns/decision`: the resolver's decision for one name under the enterprise's policy
/// in force, and, with `device`, what that device's query of it would do.
struct DNSDecisionExplanation: Content {
    struct ExtendedError: Content {
        var code: Int
        var text: String
    }

    var name: String
    var type: String
    /// ALLOW, BLOCK or LOG_ONLY.
    var action: String
    var classification: String?
    var indicator: String?
    var source: String?
    var label: String?
    var allowedBy: String?
    var extendedError: ExtendedError?
    /// What the client receives, in words.
    var answer: String
    var policyVersion: Int
    /// Whether this server runs the resolver (`--dns-upstream`); the decision holds either way.
    var resolverRunning: Bool
    var device: DNSDecisionDevice?
}

/// The device's side of a decision: whether its queries are its own (an active resolver token),
/// whether a hit would be reported as its threat, and the threat it already has for the indicator.
struct DNSDecisionDevice: Content {
    var id: String
    /// ACTIVE, REVOKED (queries count for the enterprise only) or NONE (never activated with one).
    var resolverToken: String
    var lastQueryAt: Date?
    /// True when a query of the name by this device becomes (or refreshes) a WEB_CONTENT threat.
    var reported: Bool
    var threat: DNSDecisionThreat?
}

struct DNSDecisionThreat: Content {
    var id: String
    var classification: String
    var severity: String
    var status: String
    var detectedAt: Date
    /// The last query of the indicator the resolver saw.
    var lastSeenAt: Date?
}
