import AsyncHTTPClient
import Dispatch
import Foundation
import MTDCore
#if canImport(Glibc)
import Glibc
#endif

/// Checks an admin-supplied URL against the egress policy before the server connects to it: the
/// host is resolved here and every address it resolves to must pass. The HTTP client resolves the
/// name again when it connects; a name whose answer changes in between (DNS rebinding) is the
/// remaining gap, which the deny list's networks narrow to names the policy allows at all.
public struct EgressGuard: Sendable {
    public var policy: EgressPolicy

    public init(policy: EgressPolicy = EgressPolicy()) {
        self.policy = policy
    }

    public struct Refused: Error, Sendable, Equatable, CustomStringConvertible {
        public var url: String
        public var reason: String
        public var description: String { "the egress policy refuses \(url): \(reason)" }
    }

    public func check(_ urlText: String) async throws(Refused) {
        guard let url = URL(string: urlText), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let rawHost = url.host, !rawHost.isEmpty else {
            throw Refused(url: urlText, reason: "not an http or https URL with a host")
        }
        _ = try await decided(rawHost, label: urlText)
    }

    /// A host the server connects to by itself (an SMTP relay): its addresses, each passing the
    /// policy. Connecting to these addresses, not the name again, leaves no rebinding gap.
    public func addresses(of rawHost: String, label: String) async throws(Refused) -> [IPAddress] {
        let addresses = try await decided(rawHost, label: label)
        guard !addresses.isEmpty else { throw Refused(url: label, reason: "\(rawHost) does not resolve") }
        return addresses
    }

    /// The host's addresses (a literal, or the resolver's answer), once the policy allowed them.
    private func decided(_ rawHost: String, label: String) async throws(Refused) -> [IPAddress] {
        let host = rawHost.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let addresses: [IPAddress]
        if let literal = IPAddress.parse(host) {
            addresses = [literal]
        } else {
            addresses = await Self.resolve(host)
        }
        if case .refused(let reason) = policy.decide(host: host, addresses: addresses) {
            throw Refused(url: label, reason: reason)
        }
        return addresses
    }

    /// The host's addresses from the system resolver, off the cooperative thread pool (getaddrinfo blocks).
    static func resolve(_ host: String) async -> [IPAddress] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: resolveBlocking(host)) }
        }
    }

    static func resolveBlocking(_ host: String) -> [IPAddress] {
        var hints = addrinfo()
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [IPAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let socketAddress = info.pointee.ai_addr {
                switch Int32(socketAddress.pointee.sa_family) {
                case AF_INET:
                    let bytes = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                        withUnsafeBytes(of: pointer.pointee.sin_addr) { Array($0) }
                    }
                    if let address = IPAddress(bytes: bytes) { addresses.append(address) }
                case AF_INET6:
                    let bytes = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                    }
                    // An IPv4-mapped answer is judged as the IPv4 address it maps.
                    if let address = IPAddress(bytes: bytes).flatMap({ IPAddress.parse($0.description) ?? $0 }) { addresses.append(address) }
                default:
                    break
                }
            }
            cursor = info.pointee.ai_next
        }
        return addresses
    }
}

/// The HTTP client for admin-supplied addresses: it never follows a redirect, so a UEM URL cannot
/// bounce the server to an address the egress policy would refuse; a 3xx is reported instead.
public enum EgressHTTP {
    public static let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
}
