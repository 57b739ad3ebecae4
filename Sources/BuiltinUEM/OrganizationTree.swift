import Fluent
import Foundation

/// The organization group tree as parent links: a device of a child group belongs to every group
/// above it, for smart group criteria, searches and admin scope alike.
struct OrganizationTree: Sendable {
    var parents: [Int: Int]

    static func load(on database: any Database) async throws -> OrganizationTree {
        var parents: [Int: Int] = [:]
        for group in try await UEMOrganizationGroup.query(on: database).all() {
            if let id = group.id, let parent = group.parentID { parents[id] = parent }
        }
        return OrganizationTree(parents: parents)
    }

    /// Whether `group` is `ancestor` or lies below it.
    func contains(_ group: Int, within ancestor: Int) -> Bool {
        var current: Int? = group
        var steps = 0
        while let id = current, steps < 64 {
            if id == ancestor { return true }
            current = parents[id]
            steps += 1
        }
        return false
    }

    /// `ancestor` and every group below it.
    func subtree(of ancestor: Int, among all: [Int]) -> [Int] {
        all.filter { contains($0, within: ancestor) }
    }
}
