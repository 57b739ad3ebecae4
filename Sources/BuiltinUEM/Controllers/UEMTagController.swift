import Fluent
import Foundation
import MTDCore
import SQLKit
import Vapor

/// `/API/mdm/tags`: search, create, update, delete, and bulk add and remove devices.
enum UEMTagController {
    static func search(_ req: Request) async throws -> Response {
        try req.uem.require(.tags, .read)
        var query = UEMTag.query(on: req.db)
        if let name = req.query[String.self, at: "name"], !name.isEmpty { query = query.filter(\.$name, .custom("LIKE"), "%\(name)%") }
        if let group = req.query[Int.self, at: "organizationgroupid"] { query = query.filter(\.$organizationGroupID == group) }
        if let type = req.query[Int.self, at: "tagtype"] { query = query.filter(\.$type == type) }
        let window = try req.uemPage
        let total = try await query.copy().count()
        let tags = try await query.sort(\.$id).range(window.range).all()
        return try UEMPaging.response("Tags", items: tags.map(WS1Tag.init), total: total, page: window.page, size: window.size, for: req)
    }

    static func add(_ req: Request) async throws -> WS1Id {
        let principal = try req.uem
        try principal.require(.tags, .edit)
        let body = try req.content.decode(WS1TagModel.self)
        let name = body.TagName.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw UEMError.invalid("TagName is required.") }
        let group = try await UEMSystemController.groupInScope(body.LocationGroupId, of: principal, on: req.db)
        if try await UEMTag.query(on: req.db).filter(\.$name == name).filter(\.$organizationGroupID == group).first() != nil {
            throw UEMError(status: .badRequest, errorCode: 1002, message: "A tag named \(name) already exists in this organization group.")
        }
        let tag = UEMTag(name: name, avatar: body.TagAvatar ?? name, type: body.TagType ?? 1, organizationGroupID: group)
        try await tag.create(on: req.db)
        return WS1Id(Value: try tag.requireID())
    }

    static func update(_ req: Request) async throws -> HTTPStatus {
        try req.uem.require(.tags, .edit)
        let tag = try await find(req)
        let body = try req.content.decode(WS1TagModel.self)
        let name = body.TagName.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw UEMError.invalid("TagName is required.") }
        if try await UEMTag.query(on: req.db).filter(\.$name == name).filter(\.$organizationGroupID == tag.organizationGroupID)
            .filter(\.$id != tag.requireID()).first() != nil {
            throw UEMError(status: .badRequest, errorCode: 1002, message: "A tag named \(name) already exists in this organization group.")
        }
        tag.name = name
        tag.avatar = body.TagAvatar ?? tag.avatar
        tag.type = body.TagType ?? tag.type
        try await tag.update(on: req.db)
        return .noContent
    }

    static func delete(_ req: Request) async throws -> HTTPStatus {
        try req.uem.require(.tags, .edit)
        let tag = try await find(req)
        let tagID = try tag.requireID()
        try await req.db.uemChange { tx in
            let devices = try await UEMDeviceTag.query(on: tx).filter(\.$tagID == tagID).all().map(\.deviceID)
            try await UEMDeviceTag.query(on: tx).filter(\.$tagID == tagID).delete()
            try await tag.delete(on: tx)
            try await EffectiveState.reconcile(devices: devices, on: tx)
        }
        return .noContent
    }

    static func devices(_ req: Request) async throws -> Response {
        try req.uem.require(.tags, .read)
        let tag = try await find(req)
        let links = try await UEMDeviceTag.query(on: req.db).filter(\.$tagID == (tag.id ?? -1)).all()
        let devices = try await UEMDevice.query(on: req.db).filter(\.$id ~~ links.map(\.deviceID)).filter(\.$enrollmentStatus == "Enrolled").all()
        let dates = Dictionary(links.map { ($0.deviceID, $0.dateTagged) }, uniquingKeysWith: { first, _ in first })
        struct Item: Content {
            var DeviceId: Int
            var FriendlyName: String
            var DateTagged: String
            var DeviceUuid: String
        }
        struct Body: Content {
            var Device: [Item]
        }
        let items = devices.map { Item(DeviceId: $0.id ?? 0, FriendlyName: $0.friendlyName, DateTagged: WS1Date.string(dates[$0.id ?? -1]), DeviceUuid: $0.uuid.uuidString.lowercased()) }
        return try await Body(Device: items).encodeResponse(for: req)
    }

    static func addDevices(_ req: Request) async throws -> WS1BulkResponse {
        try await bulk(req, adding: true)
    }

    static func removeDevices(_ req: Request) async throws -> WS1BulkResponse {
        try await bulk(req, adding: false)
    }

    /// One call for many devices: each id is accepted or reported as a fault, never all-or-nothing.
    static func bulk(_ req: Request, adding: Bool) async throws -> WS1BulkResponse {
        let principal = try req.uem
        try principal.require(.tags, .edit)
        try principal.require(.bulkManagement, .edit)
        let tag = try await find(req)
        let tagID = try tag.requireID()
        let values = try req.content.decode(WS1BulkInput.self).BulkValues.Value
        let (known, faults) = try await enrolledDevices(values, on: req.db)
        let now = Date()
        // The tag change and the profiles and compliance it causes are one transaction: were they
        // not, a failure in between would leave a retry finding the tag applied and skipping the rest.
        let unchanged = try await req.db.uemChange { tx in
            let existing = Set(try await UEMDeviceTag.query(on: tx).filter(\.$tagID == tagID).filter(\.$deviceID ~~ known).all().map(\.deviceID))
            let changed = known.filter { adding != existing.contains($0) }
            guard !changed.isEmpty else { return known.count }
            // Few statements for hundreds of devices: the bulk call must not hold the database long.
            guard let sql = tx as? any SQLDatabase else { throw UEMError(status: .internalServerError, errorCode: 500, message: "The built-in UEM needs an SQL database.") }
            if adding {
                var insert = sql.insert(into: UEMDeviceTag.schema).columns("tag_id", "device_id", "date_tagged")
                for id in changed { insert = insert.values([SQLBind(tagID), SQLBind(id), SQLBind(now)]) }
                try await insert.run()
            } else {
                try await sql.delete(from: UEMDeviceTag.schema).where("tag_id", .equal, tagID).where("device_id", .in, changed).run()
            }
            var events = sql.insert(into: UEMEvent.schema).columns("event_type", "device_id", "detail", "event_time")
            for id in changed { events = events.values([SQLBind(adding ? "TagAdded" : "TagRemoved"), SQLBind(id), SQLBind(tag.name), SQLBind(now)]) }
            try await events.run()
            try await EffectiveState.reconcile(devices: changed, on: tx, now: now)
            return known.count - changed.count
        }
        // A client that keeps asking for what is already so (a sync that lost track of what it sent)
        // shows here; the replica tests count these lines.
        if unchanged > 0 {
            req.logger.notice("bulk tag call asked for changes already in effect", metadata: [
                "tag": "\(tag.name)", "unchanged": "\(unchanged)", "adding": "\(adding)",
            ])
        }
        return WS1BulkResponse(
            TotalItems: values.count, AcceptedItems: values.count - faults.count, FailedItems: faults.count, Faults: .init(Fault: faults))
    }

    /// The enrolled devices among bulk values (in order, once each), and a fault for every other value.
    static func enrolledDevices(_ values: [String], on database: any Database) async throws -> (ids: [Int], faults: [WS1BulkResponse.Fault]) {
        guard values.count <= 5000 else { throw UEMError.invalid("At most 5000 values per bulk call; got \(values.count).") }
        let devices = try await UEMDevice.query(on: database).filter(\.$id ~~ values.compactMap { Int($0) }).filter(\.$enrollmentStatus == "Enrolled").all()
        let known = Set(devices.compactMap(\.id))
        var ids: [Int] = []
        var seen = Set<Int>()
        var faults: [WS1BulkResponse.Fault] = []
        for value in values {
            guard let id = Int(value), known.contains(id) else {
                faults.append(.init(ErrorCode: 5061, ItemValue: value, Message: "Device not found for this request."))
                continue
            }
            if seen.insert(id).inserted { ids.append(id) }
        }
        return (ids, faults)
    }

    static func sqlDatabase(_ req: Request) throws -> any SQLDatabase {
        guard let sql = req.db as? any SQLDatabase else { throw UEMError(status: .internalServerError, errorCode: 500, message: "The built-in UEM needs an SQL database.") }
        return sql
    }

    static func find(_ req: Request) async throws -> UEMTag {
        guard let id = req.parameters.get("id", as: Int.self), let tag = try await UEMTag.find(id, on: req.db) else {
            throw UEMError.notFound("Tag", code: 5062)
        }
        return tag
    }
}
