import Foundation

/// Which enterprise an unattributed resolver client (plain DNS, or DoH/DoT without a resolver
/// token) counts for, from the networks each enterprise's policy declares
/// (`protectiveDNS.networks`). The most specific network wins. When no enterprise declares any,
/// every such client counts for the default enterprise (one tenant, nothing to configure); once one
/// does, a client outside every declared network is refused, so the resolver is not open to anyone.
public struct ResolverNetworks: Sendable, Equatable {
    public enum Admission: Sendable, Equatable {
        case enterprise(UUID)
        case refused
    }

    /// Networks, most specific first.
    private let entries: [(network: IPNetwork, enterpriseID: UUID)]
    public let defaultEnterpriseID: UUID

    public init(defaultEnterpriseID: UUID, networks: [UUID: [IPNetwork]] = [:]) {
        self.defaultEnterpriseID = defaultEnterpriseID
        entries = networks.flatMap { enterprise, networks in networks.map { ($0, enterprise) } }
            .sorted { $0.network.prefixLength > $1.network.prefixLength }
    }

    public var isEmpty: Bool { entries.isEmpty }

    public func admission(for address: IPAddress?) -> Admission {
        guard !entries.isEmpty else { return .enterprise(defaultEnterpriseID) }
        guard let address, let match = entries.first(where: { $0.network.contains(address) }) else { return .refused }
        return .enterprise(match.enterpriseID)
    }

    public static func == (lhs: ResolverNetworks, rhs: ResolverNetworks) -> Bool {
        lhs.defaultEnterpriseID == rhs.defaultEnterpriseID && lhs.entries.map(\.network) == rhs.entries.map(\.network)
            && lhs.entries.map(\.enterpriseID) == rhs.entries.map(\.enterpriseID)
    }

    /// The first of `networks` that overlaps one of `others` (another enterprise's), with it: two
    /// enterprises cannot claim the same addresses.
    public static func overlap(_ networks: [IPNetwork], with others: [IPNetwork]) -> (IPNetwork, IPNetwork)? {
        for network in networks {
            for other in others where network.overlaps(other) { return (network, other) }
        }
        return nil
    }
}

extension IPNetwork {
    /// Whether the two share an address: the shorter prefix contains the other's address.
    public func overlaps(_ other: IPNetwork) -> Bool {
        guard address.bytes.count == other.address.bytes.count else { return false }
        return prefixLength <= other.prefixLength ? contains(other.address) : other.contains(address)
    }
}
