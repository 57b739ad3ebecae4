import FluentKit
import Foundation
import enum MTDCore.Severity
import enum MTDCore.ThreatStatus

/// A threat on a device, from first detection to resolution. Identity: device + classification + subject.
public final class ThreatModel: Model, @unchecked Sendable {
    public static let schema = "threats"

    @ID(key: .id) public var id: UUID?
    @Field(key: "enterprise_id") public var enterpriseID: UUID
    @Parent(key: "device_id") public var device: DeviceModel
    @Field(key: "classification") public var classification: String
    @Field(key: "subject") public var subject: String
    @Field(key: "type") public var type: String
    @Field(key: "severity") public var severity: Severity
    @Field(key: "status") public var status: ThreatStatus
    @Field(key: "fingerprint") public var fingerprint: String
    /// The finding's evidence, JSON.
    @Field(key: "evidence") public var evidence: String
    @Field(key: "detected_at") public var detectedAt: Date
    @OptionalField(key: "resolved_at") public var resolvedAt: Date?
    @OptionalField(key: "status_reason") public var statusReason: String?
    @Timestamp(key: "updated_at", on: .update) public var updatedAt: Date?

    public init() {}
}
