/// A closed set of string values on the wire. Decoding an unknown value names the allowed ones, so the
/// error message tells the sender how to fix the document.
public protocol WireEnum: RawRepresentable, CaseIterable, Codable where RawValue == String {}

extension WireEnum {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let value = Self(rawValue: raw) else {
            let allowed = Self.allCases.map(\.rawValue).joined(separator: ", ")
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "unknown value \"\(raw)\"; expected one of \(allowed)")
        }
        self = value
    }
}

extension Severity: WireEnum {}
extension ThreatType: WireEnum {}
extension DeploymentMode: WireEnum {}
extension SecurityStatus: WireEnum {}
extension ThreatClassification: WireEnum {}
extension Platform: WireEnum {}
extension AppSource: WireEnum {}
extension WiFiSecurity: WireEnum {}
extension NetworkAnomaly: WireEnum {}
