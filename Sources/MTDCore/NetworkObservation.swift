/// What the agent saw of the network it is on.
public struct NetworkObservation: Codable, Sendable, Equatable {
    public var wifi: WiFiObservation?
    public var tlsProbes: [TLSProbe]?
    public var anomalies: [NetworkAnomaly]?

    public init(wifi: WiFiObservation? = nil, tlsProbes: [TLSProbe]? = nil, anomalies: [NetworkAnomaly]? = nil) {
        self.wifi = wifi
        self.tlsProbes = tlsProbes
        self.anomalies = anomalies
    }
}

public enum WiFiSecurity: String, Codable, Sendable, CaseIterable {
    case open = "OPEN"
    case wep = "WEP"
    case wpa = "WPA"
    case wpa2 = "WPA2"
    case wpa3 = "WPA3"
    case wpa2Enterprise = "WPA2_ENTERPRISE"
    case wpa3Enterprise = "WPA3_ENTERPRISE"

    /// Higher is stronger; an access point that offers less than expected is suspicious.
    public var strength: Int {
        switch self {
        case .open: 0
        case .wep: 1
        case .wpa: 2
        case .wpa2: 3
        case .wpa3: 4
        case .wpa2Enterprise: 5
        case .wpa3Enterprise: 6
        }
    }
}

public struct WiFiObservation: Codable, Sendable, Equatable {
    public var ssid: String?
    public var bssid: String?
    public var security: WiFiSecurity?
    public var gatewayMac: String?

    public init(ssid: String? = nil, bssid: String? = nil, security: WiFiSecurity? = nil, gatewayMac: String? = nil) {
        self.ssid = ssid
        self.bssid = bssid
        self.security = security
        self.gatewayMac = gatewayMac
    }
}

public struct TLSProbe: Codable, Sendable, Equatable {
    public var host: String
    public var expectedSpkiSha256: String
    public var observedSpkiSha256: String

    public init(host: String, expectedSpkiSha256: String, observedSpkiSha256: String) {
        self.host = host
        self.expectedSpkiSha256 = expectedSpkiSha256
        self.observedSpkiSha256 = observedSpkiSha256
    }
}

public enum NetworkAnomaly: String, Codable, Sendable, CaseIterable {
    case arpSpoofing = "ARP_SPOOFING"
    case sslStrip = "SSL_STRIP"
    case portScan = "PORT_SCAN"
    case gatewayAddressChange = "GATEWAY_ADDRESS_CHANGE"
}

/// One app contacted one host, `count` times since the last check-in.
public struct NetworkActivity: Codable, Sendable, Equatable {
    public var app: String?
    public var host: String
    public var count: Int?

    public init(app: String? = nil, host: String, count: Int? = nil) {
        self.app = app
        self.host = host
        self.count = count
    }
}

/// A visit the standalone app's content filter flagged.
public struct ContentVisit: Codable, Sendable, Equatable {
    public var host: String
    public var url: String?
    public var app: String?
    public var at: String?

    public init(host: String, url: String? = nil, app: String? = nil, at: String? = nil) {
        self.host = host
        self.url = url
        self.app = app
        self.at = at
    }
}

/// Forensic extras matched against spyware indicators.
public struct Diagnostics: Codable, Sendable, Equatable {
    public var processes: [String]?
    public var filePaths: [String]?
    public var configurationProfiles: [String]?

    public init(processes: [String]? = nil, filePaths: [String]? = nil, configurationProfiles: [String]? = nil) {
        self.processes = processes
        self.filePaths = filePaths
        self.configurationProfiles = configurationProfiles
    }
}
