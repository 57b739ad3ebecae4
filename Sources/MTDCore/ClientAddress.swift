import Foundation

/// The address a request came from when it passed through load balancers: the peer, unless the
/// peer is a trusted proxy, in which case the nearest address in X-Forwarded-For that is not one.
/// Addresses a client wrote itself (left of the first untrusted hop) are never believed.
public enum ClientAddress {
    /// `forwardedFor` holds every X-Forwarded-For header value in order.
    public static func resolve(peer: String?, forwardedFor: [String], trustedProxies: [IPNetwork]) -> String {
        guard let peer else { return "unknown" }
        func trusted(_ text: String) -> Bool {
            guard let address = IPAddress.parse(text) else { return false }
            return trustedProxies.contains { $0.contains(address) }
        }
        guard !trustedProxies.isEmpty, trusted(peer) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        // Right to left: each trusted proxy appended the address it received from.
        for hop in hops.reversed() {
            guard IPAddress.parse(hop) != nil else { return peer }
            if !trusted(hop) { return hop }
        }
        return hops.first ?? peer
    }
}
