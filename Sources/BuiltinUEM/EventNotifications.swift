import Fluent
import Foundation

/// Workspace ONE event notifications from the built-in UEM: each target gets, in order, a JSON
/// POST with Basic auth for every enrolment (`MDMEnrollmentComplete`), unenrolment
/// (`BreakMDMConfirmed`) and compliance change (`ComplianceStatusChanged`) recorded after it was
/// added. A target that fails keeps its place and is tried again at the next pass. The host sends
/// (its HTTP client and egress policy) and decides which replica delivers.
public enum UEMEventNotifications {
    public static let eventTypes = ["MDMEnrollmentComplete", "BreakMDMConfirmed", "ComplianceStatusChanged"]

    /// One POST: the target's URL, its credentials and the JSON body. Throws when it was not accepted.
    public typealias Send = @Sendable (_ url: String, _ username: String, _ password: String, _ body: Data) async throws -> Void

    public struct Target: Sendable, Equatable {
        public var name: String
        public var url: String
        public var username: String
        public var password: String

        public init(name: String, url: String, username: String, password: String) {
            self.name = name
            self.url = url
            self.username = username
            self.password = password
        }
    }

    /// The target named `name`, if there is one (the host checks whether its own registration is current).
    public static func target(named name: String, on database: any Database) async throws -> Target? {
        try await UEMNotificationTarget.query(on: database).filter(\.$name == name).first()
            .map { Target(name: $0.name, url: $0.url, username: $0.username, password: $0.password) }
    }

    /// Adds the target, or points an existing one of that name elsewhere; it receives what happens
    /// from now on.
    public static func register(_ target: Target, on database: any Database) async throws {
        let head = try await UEMEvent.query(on: database).max(\.$id) ?? 0
        if let existing = try await UEMNotificationTarget.query(on: database).filter(\.$name == target.name).first() {
            existing.url = target.url
            existing.username = target.username
            existing.password = target.password
            try await existing.update(on: database)
        } else {
            try await UEMNotificationTarget(name: target.name, url: target.url, username: target.username, password: target.password,
                                            deliveredThrough: head).create(on: database)
        }
    }

    /// Runs a write; the host passes its database write serializer (SQLite's single writer), which
    /// is never held while a notification is being sent.
    public typealias Serialize = @Sendable (@escaping @Sendable () async throws -> Void) async throws -> Void

    /// One pass: up to `batch` notifications per target, the targets side by side so that one that
    /// is down does not hold up the others. Returns how many were delivered.
    @discardableResult
    public static func deliver(on database: any Database, send: @escaping Send, serialize: @escaping Serialize = { try await $0() },
                               batch: Int = 100) async throws -> Int {
        let targets = try await UEMNotificationTarget.query(on: database).sort(\.$id).all()
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for target in targets {
                group.addTask { try await deliver(to: target, on: database, send: send, serialize: serialize, batch: batch) }
            }
            return try await group.reduce(0, +)
        }
    }

    private static func deliver(to target: UEMNotificationTarget, on database: any Database, send: Send, serialize: Serialize, batch: Int) async throws -> Int {
        var delivered = 0
        let events = try await UEMEvent.query(on: database).filter(\.$id > target.deliveredThrough).filter(\.$eventType ~~ eventTypes)
            .sort(\.$id).limit(batch).all()
        for event in events {
            guard let id = event.id else { continue }
            do {
                try await send(target.url, target.username, target.password, try await body(of: event, on: database))
            } catch {
                target.lastError = String("\(error)".prefix(500))
                try await serialize { [target] in try await target.update(on: database) }
                break
            }
            target.deliveredThrough = id
            target.lastError = nil
            target.lastDeliveredAt = Date()
            try await serialize { [target] in try await target.update(on: database) }
            delivered += 1
        }
        return delivered
    }

    /// The notification JSON Workspace ONE posts (its field names), from the event and its device.
    static func body(of event: UEMEvent, on database: any Database) async throws -> Data {
        let device = try await UEMDevice.find(event.deviceID, on: database)
        var group: UEMOrganizationGroup?
        if let device { group = try await UEMOrganizationGroup.find(device.organizationGroupID, on: database) }
        let milliseconds = Int64((event.eventTime.timeIntervalSince1970 * 1000).rounded())
        let object: [String: Any] = [
            "EventId": event.id ?? 0, "EventType": event.eventType, "DeviceId": event.deviceID,
            "DeviceFriendlyName": device?.friendlyName ?? "", "EnrollmentEmailAddress": device?.userEmail ?? "",
            "EnrollmentUserName": device?.userName ?? "", "EventTime": "/Date(\(milliseconds))/",
            // An unenrolled device keeps its row; the event says what happened.
            "EnrollmentStatus": event.eventType == "BreakMDMConfirmed" ? "Unenrolled" : device?.enrollmentStatus ?? "",
            "CompromisedStatus": device.map { $0.compromised ? "Compromised" : "" } ?? "", "CompromisedTimeStamp": "",
            "ComplianceStatus": device?.complianceStatus ?? "", "PhoneNumber": "", "Udid": device?.udid ?? event.detail ?? "",
            "SerialNumber": device?.serialNumber ?? "", "MACAddress": device?.macAddress ?? "", "DeviceIMEI": device?.imei ?? "",
            "EnrollmentUserId": device?.enrollmentUserID ?? 0, "AssetNumber": "", "Platform": device?.platform ?? "",
            "OperatingSystem": device?.operatingSystem ?? "", "Ownership": ownershipName(device?.ownership), "SIMMCC": "", "CurrentMCC": "",
            "OrganizationGroupName": group?.name ?? "", "DeviceUUID": device?.uuid.uuidString.lowercased() ?? "",
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    static func ownershipName(_ code: String?) -> String {
        switch code {
        case "C": "CorporateDedicated"
        case "E": "EmployeeOwned"
        case "S": "CorporateShared"
        default: "Undefined"
        }
    }
}
