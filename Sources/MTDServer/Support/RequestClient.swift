import MTDCore
import Vapor

extension Request {
    /// The client's address for rate limits and logs, seen through the configured trusted proxies
    /// (the load balancer in front of the replicas).
    var clientAddress: String {
        ClientAddress.resolve(
            peer: remoteAddress?.ipAddress, forwardedFor: headers[canonicalForm: "X-Forwarded-For"].map(String.init),
            trustedProxies: application.mtd.trustedProxies)
    }
}
