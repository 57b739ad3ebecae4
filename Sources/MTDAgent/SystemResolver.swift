import Foundation
import MTDCore

/// The device's own name resolution, as apps get it (the MDM's DNS settings or Private DNS apply
/// here): what `ContentProtection` asks to learn which resolver the device uses.
public protocol SystemResolver: Sendable {
    /// The addresses the system resolver gives for `host`; empty when it gives none or fails.
    func addresses(of host: String) async -> [String]
}

/// `getaddrinfo`, on a Dispatch thread (it blocks): what iOS and Linux apps resolve with.
public struct POSIXSystemResolver: SystemResolver {
    public init() {}

    public func addresses(of host: String) async -> [String] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: Self.lookUp(host)) }
        }
    }

    static func lookUp(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        #else
        hints.ai_socktype = SOCK_DGRAM
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let info = next {
            if let address = info.pointee.ai_addr, info.pointee.ai_family == AF_INET {
                var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
                address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { ipv4 in
                    var raw = ipv4.pointee.sin_addr
                    _ = inet_ntop(AF_INET, &raw, &text, socklen_t(INET_ADDRSTRLEN))
                }
                addresses.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            next = info.pointee.ai_next
        }
        return addresses
    }
}

/// Whether the device's DNS goes through OpenMTD's protective resolver, found by looking up the
/// probe name (`ResolverProbe`) with the system resolver. This is how a standalone agent reports
/// `contentProtectionEnabled`: phishing protection comes from the DNS settings the MDM installed
/// (Apple's DNS Settings payload, Android's Private DNS), never from a VPN the agent installs, so
/// the device's one VPN slot stays with the MDM's VPN (e.g. Workspace ONE Tunnel).
public enum ContentProtection {
    public static func isEnabled(serverURL: URL, resolver: any SystemResolver) async -> Bool {
        guard let host = serverURL.host, !host.isEmpty else { return false }
        return ResolverProbe.answeredByOpenMTD(await resolver.addresses(of: ResolverProbe.name(serverHost: host)))
    }
}
