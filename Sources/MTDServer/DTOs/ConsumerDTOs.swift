import Foundation
import Vapor

/// `GET /api/v1/consumers`: the event-log consumers as this replica sees them.
struct ConsumerList: Content {
    /// This replica's name in lease rows.
    var replica: String
    var consumers: [ConsumerStatusResponse]
}

struct ConsumerStatusResponse: Content {
    var name: String
    /// `one-replica` (under a lease) or `every-replica`.
    var placement: String
    /// Whether this replica holds the lease.
    var holdsLease: Bool
    var leaseHolder: String?
    var leaseExpiresAt: Date?
    var position: Int
    var head: Int
    var lagEvents: Int
    var lagSeconds: Double
    var lastSuccessAt: Date?
    var lastError: String?
    var lastErrorAt: Date?
    var errors: Int
    var processedEvents: Int

    init(_ status: ConsumerRunner.Status) {
        name = status.name
        placement = status.placement.rawValue
        holdsLease = status.holdsLease
        leaseHolder = status.leaseHolder
        leaseExpiresAt = status.leaseExpiresAt
        position = status.position
        head = status.head
        lagEvents = status.lagEvents
        lagSeconds = status.lagSeconds
        lastSuccessAt = status.lastSuccessAt
        lastError = status.lastError
        lastErrorAt = status.lastErrorAt
        errors = status.errors
        processedEvents = status.processedEvents
    }
}
