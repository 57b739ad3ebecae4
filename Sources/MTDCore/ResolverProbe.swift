import Foundation

/// How a standalone agent tells that the device's DNS goes through OpenMTD's protective resolver:
/// it looks up `openmtd-probe.HOST` (HOST: the server's name) with the system resolver. OpenMTD's
/// resolver answers that name itself with a fixed documentation address (RFC 5737's TEST-NET-2),
/// which no other resolver gives, whatever records HOST's zone holds (a wildcard for DoT names
/// gives the server's real address). So `contentProtectionEnabled` reports the resolver actually
/// in use, with no VPN and no API the platform may not offer.
public enum ResolverProbe {
    public static let label = "openmtd-probe"
    public static let marker: [UInt8] = [198, 51, 100, 53]
    public static let markerText = "198.51.100.53"

    /// The name to look up for a server at `serverHost`.
    public static func name(serverHost: String) -> String {
        "\(label).\(serverHost.hasSuffix(".") ? String(serverHost.dropLast()) : serverHost)"
    }

    /// Whether a queried name (lowercased, without the trailing dot) is a probe.
    public static func isProbe(_ host: String) -> Bool {
        host.hasPrefix(label + ".") || host == label
    }

    /// Whether the addresses the system resolver gave for the probe name mean our resolver answered.
    public static func answeredByOpenMTD(_ addresses: [String]) -> Bool {
        addresses.contains(markerText)
    }
}
