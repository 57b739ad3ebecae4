import Foundation
import Vapor

/// A "DNS settings" profile: encrypted DNS set by the UEM, which takes no VPN slot. Apple devices
/// get the DNS Settings payload (`com.apple.dnsSettings.managed`, iOS 14+/macOS 11+) with DoH
/// (`ServerURL`) or DoT (`ServerName`); Android devices get Private DNS in specified-host mode,
/// which is DoT only (`ServerName`). The strings take lookup values, `{ResolverToken}` among them,
/// so one profile gives every device its own resolver address.
struct UEMDNSSettings: Content, Equatable {
    /// `HTTPS` or `TLS`: what Apple devices use; Android always uses `ServerName`.
    var DNSProtocol: String
    /// DoH URL, e.g. `https://mtd.example.com/dns-query/{ResolverToken}`.
    var ServerURL: String?
    /// DoT host name, e.g. `{ResolverToken}.dns.mtd.example.com`.
    var ServerName: String?
    /// Apple: the user cannot turn the setting off (supervised devices).
    var ProhibitDisablement: Bool?

    static let protocols = ["HTTPS", "TLS"]

    /// Refuses a payload that no device could use, naming the field.
    func validate(platform: String) throws {
        guard Self.protocols.contains(DNSProtocol) else {
            throw UEMError.invalid("DnsSettings.DNSProtocol must be HTTPS or TLS, got \"\(DNSProtocol)\"")
        }
        if DNSProtocol == "HTTPS" {
            guard let url = ServerURL, url.lowercased().hasPrefix("https://"), url.count > "https://".count else {
                throw UEMError.invalid("DnsSettings.ServerURL: DNSProtocol HTTPS needs an https:// URL, e.g. https://mtd.example.com/dns-query/{ResolverToken}")
            }
        }
        let needsName = DNSProtocol == "TLS" || platform == "Android" || platform == "Any"
        if needsName, ServerName?.isEmpty ?? true {
            throw UEMError.invalid("DnsSettings.ServerName: \(DNSProtocol == "TLS" ? "DNSProtocol TLS" : "Android's Private DNS (DoT only)") needs a host name, e.g. {ResolverToken}.dns.mtd.example.com")
        }
        if let name = ServerName, name.contains("/") || name.contains(":") || name.contains(" ") {
            throw UEMError.invalid("DnsSettings.ServerName must be a bare host name (no scheme, port or path), got \"\(name)\"")
        }
        for text in [ServerURL, ServerName].compactMap({ $0 }) {
            if let unknown = LookupValues.unknown(in: text) {
                throw UEMError.invalid("DnsSettings: unknown lookup value {\(unknown.name)}" + (unknown.suggestion.map { "; did you mean {\($0)}?" } ?? ""))
            }
        }
    }

    func resolved(_ values: [String: String]) -> UEMDNSSettings {
        var copy = self
        copy.ServerURL = ServerURL.map { LookupValues.resolve($0, values: values) }
        copy.ServerName = ServerName.map { LookupValues.resolve($0, values: values) }
        return copy
    }

    /// Apple's configuration profile with one DNS Settings payload (a property list).
    func appleProfile(profileName: String, profileUUID: UUID) throws -> String {
        var settings: [String: Any] = ["DNSProtocol": DNSProtocol]
        if DNSProtocol == "HTTPS", let ServerURL { settings["ServerURL"] = ServerURL }
        if let ServerName, DNSProtocol == "TLS" { settings["ServerName"] = ServerName }
        var payload: [String: Any] = [
            "PayloadType": "com.apple.dnsSettings.managed", "PayloadVersion": 1,
            "PayloadIdentifier": "com.openmtd.dns.\(profileUUID.uuidString.lowercased())", "PayloadUUID": Self.payloadUUID(profileUUID),
            "PayloadDisplayName": profileName, "DNSSettings": settings,
        ]
        if ProhibitDisablement == true { payload["ProhibitDisablement"] = true }
        let profile: [String: Any] = [
            "PayloadType": "Configuration", "PayloadVersion": 1, "PayloadDisplayName": profileName,
            "PayloadIdentifier": "com.openmtd.profile.\(profileUUID.uuidString.lowercased())", "PayloadUUID": profileUUID.uuidString,
            "PayloadContent": [payload],
        ]
        let data = try PropertyListSerialization.data(fromPropertyList: profile, format: .xml, options: 0)
        return String(decoding: data, as: UTF8.self)
    }

    /// Android Management API policy fragment: Private DNS with the DoT host.
    func androidPolicy() -> [String: Any] {
        ["deviceConnectivityManagement": ["privateDnsSettings": [
            "privateDnsMode": "PRIVATE_DNS_SPECIFIED_HOST", "privateDnsHost": ServerName ?? "",
        ]]]
    }

    /// The inner payload's UUID, derived from the profile's so that it is stable across renders.
    static func payloadUUID(_ profile: UUID) -> String {
        var bytes = profile.uuid
        bytes.15 ^= 0x5A
        return UUID(uuid: bytes).uuidString
    }
}

/// Lookup values the host application knows about a UEM device (OpenMTD: the device's resolver
/// token), on top of the UEM's own.
public protocol UEMLookupSource: Sendable {
    func values(udid: String, uemDeviceID: Int) async throws -> [String: String]
}

struct UEMLookupSourceKey: StorageKey {
    typealias Value = any UEMLookupSource
}
