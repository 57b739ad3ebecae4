import Foundation
import Vapor

/// One entry of a device's DNS query log (`GET /api/v1/devices/{id}/dns-queries`).
struct DNSQueryLogItem: Content {
    var askedAt: Date
    var name: String
    var type: String
    var action: String
    var classification: String?
    var indicator: String?
}

/// `next` is the `before` of the following page, while there may be more.
struct DNSQueryLogPage: Content {
    var enabled: Bool
    var retentionDays: Int?
    var items: [DNSQueryLogItem]
    var next: String?
}
