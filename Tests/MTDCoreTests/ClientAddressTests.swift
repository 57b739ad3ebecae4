import MTDCore
import Testing

/// Behind a load balancer the client is the nearest untrusted hop in X-Forwarded-For; nobody else
/// can choose the address their failed attempts are counted against.
struct ClientAddressTests {
    let proxies = ["127.0.0.1", "10.0.0.0/8"].compactMap(IPNetwork.parse)

    @Test func thePeerIsTheClientUnlessItIsATrustedProxy() {
        #expect(ClientAddress.resolve(peer: "203.0.113.9", forwardedFor: ["198.51.100.1"], trustedProxies: proxies) == "203.0.113.9")
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: ["198.51.100.1"], trustedProxies: []) == "127.0.0.1")
        #expect(ClientAddress.resolve(peer: nil, forwardedFor: [], trustedProxies: proxies) == "unknown")
    }

    @Test func theNearestUntrustedHopWins() {
        // A client that sends its own X-Forwarded-For cannot hide behind it: nginx appends the real peer.
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: ["1.2.3.4, 198.51.100.7"], trustedProxies: proxies) == "198.51.100.7")
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: ["198.51.100.7, 10.1.2.3"], trustedProxies: proxies) == "198.51.100.7")
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: ["198.51.100.7", "10.1.2.3"], trustedProxies: proxies) == "198.51.100.7")
        // Only proxies all the way: the first hop.
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: ["10.9.9.9, 10.1.2.3"], trustedProxies: proxies) == "10.9.9.9")
        // Garbage is not an address: the proxy itself is the client.
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: ["not-an-address"], trustedProxies: proxies) == "127.0.0.1")
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: [], trustedProxies: proxies) == "127.0.0.1")
    }
}
