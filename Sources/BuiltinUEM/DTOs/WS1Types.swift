import Foundation
import Vapor

/// Workspace ONE's JSON building blocks, with its PascalCase names.
struct WS1Id: Content, Equatable {
    var Value: Int
}

struct WS1Reference: Content {
    var Id: WS1Id
    var Name: String?
    var Uuid: String?
}

/// `{"BulkValues":{"Value":["123","456"]}}`.
struct WS1BulkInput: Content {
    struct Values: Content {
        var Value: [String]
    }

    var BulkValues: Values
}

/// Per-item outcome of a bulk call.
struct WS1BulkResponse: Content {
    struct Fault: Content {
        var ErrorCode: Int
        var ItemValue: String
        var Message: String
    }

    struct Faults: Content {
        var Fault: [Fault]
    }

    var TotalItems: Int
    var AcceptedItems: Int
    var FailedItems: Int
    var Faults: Faults
}

/// Dates the way Workspace ONE writes them: UTC, no zone, milliseconds.
enum WS1Date {
    static func string(_ date: Date?) -> String {
        guard let date else { return "0001-01-01T00:00:00.000" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS"
        return formatter.string(from: date)
    }
}

/// The DeviceExtended fields the built-in UEM knows.
struct WS1Device: Content {
    var Id: WS1Id
    var Uuid: String
    var Udid: String
    var SerialNumber: String?
    var MacAddress: String?
    var Imei: String?
    var DeviceFriendlyName: String
    var LocationGroupId: WS1Reference
    var LocationGroupName: String
    var UserName: String
    var UserEmailAddress: String?
    var EnrollmentUserId: WS1Id?
    var Ownership: String
    var PlatformId: WS1Reference
    var Platform: String
    var Model: String?
    var OperatingSystem: String?
    var LastSeen: String
    var EnrollmentStatus: String
    var ComplianceStatus: String
    var CompromisedStatus: Bool
    var LastEnrolledOn: String
    /// OpenMTD extension: the threat level an MTD reported, when one did.
    var MTDThreatLevel: String?

    init(_ device: UEMDevice, group: UEMOrganizationGroup?) {
        Id = WS1Id(Value: device.id ?? 0)
        Uuid = device.uuid.uuidString.lowercased()
        Udid = device.udid
        SerialNumber = device.serialNumber
        MacAddress = device.macAddress
        Imei = device.imei
        DeviceFriendlyName = device.friendlyName
        LocationGroupId = WS1Reference(Id: WS1Id(Value: device.organizationGroupID), Name: group?.name, Uuid: group?.uuid.uuidString.lowercased())
        LocationGroupName = group?.name ?? ""
        UserName = device.userName
        UserEmailAddress = device.userEmail
        EnrollmentUserId = device.enrollmentUserID.map { WS1Id(Value: $0) }
        Ownership = device.ownership
        PlatformId = WS1Reference(Id: WS1Id(Value: device.platform == "Apple" ? 2 : 5), Name: device.platform, Uuid: nil)
        Platform = device.platform
        Model = device.model
        OperatingSystem = device.operatingSystem
        LastSeen = WS1Date.string(device.lastSeen)
        EnrollmentStatus = device.enrollmentStatus
        ComplianceStatus = device.complianceStatus
        CompromisedStatus = device.compromised
        LastEnrolledOn = WS1Date.string(device.enrolledOn)
        MTDThreatLevel = device.mtdThreatLevel
    }
}

struct WS1Tag: Content {
    var Id: WS1Id
    var Uuid: String
    var TagName: String
    var TagAvatar: String
    var TagType: Int
    var LocationGroupId: Int

    init(_ tag: UEMTag) {
        Id = WS1Id(Value: tag.id ?? 0)
        Uuid = tag.uuid.uuidString.lowercased()
        TagName = tag.name
        TagAvatar = tag.avatar
        TagType = tag.type
        LocationGroupId = tag.organizationGroupID
    }
}

/// `POST /API/mdm/tags/addtag` and `/{id}/update`.
struct WS1TagModel: Content {
    var TagName: String
    var TagAvatar: String?
    var TagType: Int?
    var LocationGroupId: Int?
}

/// OpenMTD's enrollment call (Workspace ONE enrolls through its agent, not its REST API).
struct WS1EnrollRequest: Content {
    var Udid: String
    var SerialNumber: String?
    var MacAddress: String?
    var Imei: String?
    var FriendlyName: String?
    var Platform: String
    var Model: String?
    var OperatingSystem: String?
    var Ownership: String?
    var UserName: String
    var UserEmailAddress: String?
    var LocationGroupId: Int?
}

struct WS1SmartGroupRequest: Content {
    struct Item: Content {
        var Id: WS1FlexibleID
        var Name: String?
    }

    var Name: String
    var ManagedByOrganizationGroupId: WS1FlexibleID?
    var Tags: [Item]?
    var Platforms: [String]?
    var Ownerships: [String]?
    var Models: [String]?
    var OperatingSystems: [WS1OSCriterion]?
    var OrganizationGroups: [Item]?
    var DeviceAdditions: [Item]?
    var DeviceExclusions: [Item]?
}

/// An id Workspace ONE clients send as a number or as a numeric string (the vendor's schema types
/// smart group ids as strings); always written back as a number.
struct WS1FlexibleID: Codable, Sendable, Equatable {
    var value: Int

    init(_ value: Int) {
        self.value = value
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            value = number
            return
        }
        let text = try container.decode(String.self)
        // Int(_:) of text is bounded: a number that does not fit is nil, never a trap.
        guard let number = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "an id is a number or a numeric string, not \"\(text.prefix(40))\"")
        }
        value = number
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// One entry of a smart group's `OperatingSystems`: Workspace ONE's `{DeviceType, Operator, Value}`,
/// or a plain version prefix (OpenMTD's earlier form, still accepted).
enum WS1OSCriterion: Codable, Sendable, Equatable {
    case prefix(String)
    case rule(SmartGroupOSRule)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .prefix(text)
        } else {
            self = .rule(try container.decode(SmartGroupOSRule.self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .prefix(let text): try container.encode(text)
        case .rule(let rule): try container.encode(rule)
        }
    }
}

struct WS1SmartGroup: Content {
    /// Workspace ONE answers a create with the new group's id as `{"Value": id}`; set only then.
    var Value: Int?
    var Name: String
    var SmartGroupID: Int
    var SmartGroupUuid: String
    var ManagedByOrganizationGroupId: Int
    var Devices: Int
    var Tags: [WS1SmartGroupRequest.Item]
    var Platforms: [String]
    var Ownerships: [String]
    var DeviceAdditions: [WS1SmartGroupRequest.Item]
    var DeviceExclusions: [WS1SmartGroupRequest.Item]
}

struct WS1ProfileRequest: Content {
    var Name: String
    var Platform: String?
    var AssignedSmartGroups: [Int]
    var ExcludedSmartGroups: [Int]?
    /// Makes this a "DNS settings" profile (an OpenMTD addition; see `UEMDNSSettings`).
    var DnsSettings: UEMDNSSettings?
}

struct WS1Profile: Content {
    struct Group: Content {
        var SmartGroupId: Int
        var Name: String
    }

    var ProfileId: Int
    var Uuid: String
    var Name: String
    var Platform: String
    var AssignedSmartGroups: [Group]
    var ExcludedSmartGroups: [Group]
    var DnsSettings: UEMDNSSettings?
}
