import Fluent
import Foundation

/// A role: per category (Admins, Apps, Devices, Groups, Users, BulkManagement, Tags, Profiles,
/// Compliance) a level, Read or Edit.
final class UEMRole: Model, @unchecked Sendable {
    static let schema = "uem_roles"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "uuid") var uuid: UUID
    @Field(key: "name") var name: String
    /// JSON object category → "Read" | "Edit".
    @Field(key: "permissions") var permissions: String

    init() {}

    init(name: String, permissions: [String: UEMPermissionLevel]) {
        uuid = UUID()
        self.name = name
        self.permissions = UEMRole.encode(permissions)
    }

    var levels: [String: UEMPermissionLevel] {
        (try? JSONDecoder().decode([String: UEMPermissionLevel].self, from: Data(permissions.utf8))) ?? [:]
    }

    static func encode(_ permissions: [String: UEMPermissionLevel]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(permissions)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

enum UEMPermissionLevel: String, Codable, Sendable, Comparable {
    case read = "Read"
    case edit = "Edit"

    static func < (lhs: Self, rhs: Self) -> Bool { lhs == .read && rhs == .edit }
}

/// The permission categories of the REST API.
enum UEMCategory: String, CaseIterable, Sendable {
    case admins = "Admins"
    case apps = "Apps"
    case devices = "Devices"
    case groups = "Groups"
    case users = "Users"
    case bulkManagement = "BulkManagement"
    case tags = "Tags"
    case profiles = "Profiles"
    case compliance = "Compliance"
}
