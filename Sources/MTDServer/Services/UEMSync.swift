import MTDAutomations
import MTDServices
import FluentKit
import Foundation
import Logging
import MTDCore
import MTDStore
import UEMClient

/// Keeps the UEM in step with the MTD. Device sync brings UEM devices in as PENDING; tag sync is
/// reconciliation: the tags a device should carry are a function of its state and the mapping, they
/// are diffed against what the UEM confirmed, sent in bulk calls of at most 500 ids per tag, and
/// recorded only when accepted. UEMSyncConsumer runs it on the event log (cursor `uem-tags`): the
/// log says which devices to look at; drift repair re-reads the UEM periodically.
actor UEMSync {
    struct Connection: Sendable {
        var connector: any UEMConnector
        /// The connection's key (UEMIntegrationSettings.connectionKey): per-device UEM state carries it.
        var key: String
        var enterpriseID: UUID
        var mapping: TagMapping
        var tagIDs: [String: Int]
        /// Every tag the UEM had when connecting, by normalized name: tags an earlier mapping
        /// applied are removed through these ids once the mapping no longer names them.
        var knownTagIDs: [String: Int] = [:]
        var info: UEMSystemInfo
        /// Compliance sync: report each device's threat level (UEMs with the MTDThreatLevel capability).
        var reportsThreatLevel: Bool { info.supportsThreatLevel }
    }

    /// Why a connection could not be made, as the admin API and the log tell it.
    enum ConnectFailure: Error, Sendable {
        case uem(UEMClientError)
        case mapping([TagMapping.Problem])
    }

    static let cursorName = "uem-tags"
    static let bulkLimit = 500
    static let concurrentCalls = 4

    let writes: WriteGate
    let logger: Logger
    private var connection: Connection?
    private(set) var lastSuccess: Date?
    private(set) var lastError: String?
    private(set) var lastErrorAt: Date?
    private(set) var errors = 0
    private(set) var pendingChanges = 0
    private(set) var callsMade = 0
    private(set) var lastDeviceSync: (at: Date, seen: Int, created: Int, deleted: Int)?

    init(writes: WriteGate, logger: Logger) {
        self.writes = writes
        self.logger = logger
    }

    /// Checks a UEM without connecting to it: the credentials (system info), then the mapping
    /// against its tags, creating missing ones if asked. Throws what an admin must fix.
    func prepare(_ connector: any UEMConnector, key: String, enterpriseID: UUID, mapping: TagMapping, createMissingTags: Bool) async throws(ConnectFailure) -> Connection {
        do {
            let info = try await connector.systemInfo()
            var existing = try await connector.tags()
            var problems = mapping.validate(against: existing)
            if createMissingTags, !problems.isEmpty {
                for problem in problems {
                    let id = try await connector.createTag(named: problem.tag)
                    existing.append(UEMTagInfo(id: id, name: problem.tag))
                }
                problems = mapping.validate(against: existing)
            }
            guard problems.isEmpty else { throw ConnectFailure.mapping(problems) }
            var ids: [String: Int] = [:]
            let byName = Dictionary(existing.map { (TagMapping.normalized($0.name), $0.id) }, uniquingKeysWith: { first, _ in first })
            for (_, tag) in mapping.entries { ids[tag] = byName[TagMapping.normalized(tag)] }
            return Connection(connector: connector, key: key, enterpriseID: enterpriseID, mapping: mapping, tagIDs: ids, knownTagIDs: byName, info: info)
        } catch let failure as ConnectFailure {
            throw failure
        } catch let error as UEMClientError {
            throw .uem(error)
        } catch {
            throw .uem(.unexpected("\(error)"))
        }
    }

    /// Makes a prepared connection the one in use. A different mapping means every device's tags
    /// are reconciled again on the next pass.
    func activate(_ prepared: Connection, settingsStamp stamp: Date? = nil) {
        connection = prepared
        settingsStamp = stamp
        lastError = nil
    }

    /// Drops the connection; with a stamp, these saved settings are not tried again until they change.
    func disconnect(settingsStamp stamp: Date? = nil) {
        connection = nil
        settingsStamp = stamp
    }

    /// The connection whose key unkeyed records (from before migration M017) were last adopted into.
    private var adoptedUnkeyed: String?

    /// When the saved settings the connection was made from changed last (see UEMConnectionLifecycle).
    private(set) var settingsStamp: Date?

    /// Connects to a UEM: validates the mapping against its tags, creating missing ones if asked.
    /// Returns the mapping problems; nothing is connected while there are problems.
    func connect(
        _ connector: any UEMConnector, key: String = "builtin", enterpriseID: UUID, mapping: TagMapping, createMissingTags: Bool
    ) async throws(UEMClientError) -> [TagMapping.Problem] {
        do {
            activate(try await prepare(connector, key: key, enterpriseID: enterpriseID, mapping: mapping, createMissingTags: createMissingTags))
            return []
        } catch {
            switch error {
            case .mapping(let problems): return problems
            case .uem(let failure): throw failure
            }
        }
    }

    var current: Connection? { connection }

    /// A snapshot for the admin API and /metrics.
    struct Status: Sendable {
        var connected: Bool
        var info: UEMSystemInfo?
        var lastSuccess: Date?
        var lastError: String?
        var lastErrorAt: Date?
        var errors: Int
        var pendingChanges: Int
        var callsMade: Int
        var lastDeviceSync: (at: Date, seen: Int, created: Int, deleted: Int)?
    }

    func status() -> Status {
        Status(connected: connection != nil, info: connection?.info, lastSuccess: lastSuccess, lastError: lastError, lastErrorAt: lastErrorAt,
               errors: errors, pendingChanges: pendingChanges, callsMade: callsMade, lastDeviceSync: lastDeviceSync)
    }

    func recordFailure(_ error: any Error, now: Date = Date()) {
        recordProblem("\(error)", now: now)
    }

    func recordProblem(_ text: String, now: Date = Date()) {
        errors += 1
        lastError = text
        lastErrorAt = now
    }

    var isConnected: Bool { connection != nil }

    /// Pages of 500 devices read at most in one device sync (ten million devices).
    static let maximumDevicePages = 20_000

    /// Upserts every UEM device as an MTD device (PENDING until its agent activates); devices the UEM
    /// no longer has become DELETED. Returns (seen, created, deleted).
    @discardableResult
    func syncDevices(on database: any Database, now: Date = Date()) async throws -> (seen: Int, created: Int, deleted: Int) {
        guard let connection else { return (0, 0, 0) }
        var records: [UEMDeviceRecord] = []
        var page = 0
        while true {
            let result = try await connection.connector.devices(page: page, pageSize: 500)
            records += result.devices
            if result.devices.isEmpty || records.count >= result.total { break }
            page += 1
            // A UEM that keeps answering with pages (a bug, or a hostile endpoint) must not keep the
            // sync reading forever.
            guard page < Self.maximumDevicePages else {
                throw UEMClientError.unexpected("device search still had pages after \(Self.maximumDevicePages) (\(records.count) devices; Total \(result.total)); stopped reading")
            }
        }
        // Devices the UEM reports unchanged are not written again: a sync every few minutes over a
        // large fleet must not bump every device's revision (that would defeat steady-state check-ins).
        let known = try await DeviceModel.query(on: database).filter(\.$enterprise.$id == connection.enterpriseID).all()
        let byExternalID = Dictionary(known.compactMap { device in device.externalID.map { ($0, device) } }, uniquingKeysWith: { first, _ in first })
        var created = 0
        for record in records {
            if let device = byExternalID[record.uuid], device.uemDeviceID == record.id, device.uemConnection == connection.key,
               device.activationStatus != .deleted {
                continue
            }
            created += try await link(record, connection: connection, on: database, now: now)
        }
        let present = Set(records.map(\.uuid))
        let gone = try await DeviceModel.query(on: database).filter(\.$enterprise.$id == connection.enterpriseID)
            .filter(\.$externalID != nil).filter(\.$uemConnection == connection.key).filter(\.$activationStatus != .deleted).all()
            .filter { !present.contains($0.externalID ?? "") }
        for gone in gone {
            guard let deviceID = gone.id else { continue }
            try await markGone(deviceID, connection: connection, on: database, now: now)
        }
        lastDeviceSync = (now, records.count, created, gone.count)
        return (records.count, created, gone.count)
    }

    /// Links the UEM's device to the MTD device with its UUID or UDID, or creates a PENDING device
    /// for it. Returns 1 when a device was created.
    private func link(_ record: UEMDeviceRecord, connection: Connection, on database: any Database, now: Date) async throws -> Int {
        try await writes.run {
            try await database.transaction { tx in
                // The UEM's device id first: identities are unique per enterprise, and a device found
                // by UDID must not take an id another device already holds.
                var existing = try await DeviceModel.query(on: tx).filter(\.$enterprise.$id == connection.enterpriseID)
                    .filter(\.$externalID == record.uuid).first()
                if existing == nil, !record.udid.isEmpty {
                    // The phone by its UDID: never linked, linked in another UEM (whose UUID it
                    // still carries), or enrolled again in this one under a new UUID.
                    existing = try await DeviceModel.query(on: tx).filter(\.$enterprise.$id == connection.enterpriseID)
                        .filter(\.$udid == record.udid).first()
                }
                if let existing, let id = existing.id { try await RowLocks.lockDevice(id, on: tx) }
                let device = existing ?? DeviceModel()
                let isNew = existing == nil
                let event = try await DeviceLedger.record(device, actor: .system, on: tx) { device in
                    device.$enterprise.id = connection.enterpriseID
                    device.externalID = record.uuid
                    // A link made in another UEM says nothing about this one.
                    if device.uemConnection != connection.key { device.uemThreatLevel = nil }
                    device.uemConnection = connection.key
                    device.uemDeviceID = record.id
                    if device.udid == nil, !record.udid.isEmpty { device.udid = record.udid }
                    device.email = device.email ?? record.email
                    device.platform = record.platform == "Apple" ? Platform.ios.rawValue
                        : (record.platform == "Android" ? Platform.android.rawValue : record.platform.uppercased())
                    device.osVersion = device.osVersion ?? record.operatingSystem
                    device.model = device.model ?? record.model
                    if isNew {
                        device.activationStatus = .pending
                        device.connectionStatus = .connected
                        device.securityStatus = .secure
                    } else if device.activationStatus == .deleted {
                        // Back in the UEM: its agent must activate again.
                        device.activationStatus = .pending
                    }
                }
                try await EventLog.append(event.map { [$0] } ?? [], enterpriseID: connection.enterpriseID, on: tx, now: now)
                return isNew ? 1 : 0
            }
        }
    }

    /// The UEM no longer has the device: it is DELETED in the MTD, and its agent must activate again.
    private func markGone(_ deviceID: UUID, connection: Connection, on database: any Database, now: Date) async throws {
        try await writes.run {
            try await database.transaction { tx in
                try await RowLocks.lockDevice(deviceID, on: tx)
                guard let device = try await DeviceModel.find(deviceID, on: tx), device.activationStatus != .deleted else { return }
                let event = try await DeviceLedger.record(device, actor: .system, on: tx) { device in
                    device.activationStatus = .deleted
                    device.credentialHash = nil
                }
                try await EventLog.append(event.map { [$0] } ?? [], enterpriseID: connection.enterpriseID, on: tx, now: now)
            }
        }
    }

    enum DeviceSyncOutcome: String, Sendable {
        /// The UEM has it: linked (or created PENDING) and up to date.
        case linked = "LINKED"
        /// The UEM no longer has it: the MTD device is DELETED.
        case removed = "REMOVED"
        /// Neither the UEM nor the MTD knows it, or no UEM is connected for the enterprise.
        case unknown = "UNKNOWN"
    }

    /// One device brought up to date with the UEM at once, as device sync would: what an event
    /// notification (enrolment, unenrolment, compliance or attribute change) asks for.
    func syncDevice(enterpriseID: UUID, uuid: String?, udid: String?, uemDeviceID: Int?, on database: any Database,
                    now: Date = Date()) async throws -> DeviceSyncOutcome {
        guard let connection, connection.enterpriseID == enterpriseID else { return .unknown }
        if let record = try await find(uuid: uuid, udid: udid, in: connection) {
            _ = try await link(record, connection: connection, on: database, now: now)
            return .linked
        }
        // Not in the UEM (any more): the MTD device it was linked to, through this connection, is gone.
        var query = DeviceModel.query(on: database).filter(\.$enterprise.$id == enterpriseID).filter(\.$uemConnection == connection.key)
            .filter(\.$activationStatus != .deleted)
        if let uuid, !uuid.isEmpty {
            query = query.filter(\.$externalID == uuid)
        } else if let uemDeviceID {
            query = query.filter(\.$uemDeviceID == uemDeviceID)
        } else {
            return .unknown
        }
        guard let device = try await query.first(), let deviceID = device.id else { return .unknown }
        try await markGone(deviceID, connection: connection, on: database, now: now)
        return .removed
    }

    /// Activation of a phone device sync has not seen yet: it is looked up in the UEM at once (by the
    /// `{DeviceUuid}` it was given, then its UDID), linked, and its tags follow through the DEVICE
    /// event, so a phone enrolled a moment ago gets its tags before the next device sync. Returns
    /// whether the device is linked now; a UEM that does not know it leaves it to device sync.
    @discardableResult
    func linkAtActivation(deviceID: UUID, on database: any Database, now: Date = Date()) async throws -> Bool {
        guard let connection, let device = try await DeviceModel.find(deviceID, on: database),
              device.$enterprise.id == connection.enterpriseID else { return false }
        if device.uemConnection == connection.key, device.uemDeviceID != nil { return true }
        guard let record = try await find(uuid: device.externalID, udid: device.udid, in: connection) else { return false }
        _ = try await link(record, connection: connection, on: database, now: now)
        return true
    }

    /// The UEM's device by its UUID, else its UDID.
    private func find(uuid: String?, udid: String?, in connection: Connection) async throws -> UEMDeviceRecord? {
        if let uuid, !uuid.isEmpty, let record = try await connection.connector.device(.uuid(uuid)) { return record }
        if let udid, !udid.isEmpty, let record = try await connection.connector.device(.udid(udid)) { return record }
        return nil
    }

    /// One reconciliation at a time: the actor alone would let two interleave at their awaits and
    /// send the same change twice.
    private let reconciling = WriteSerializer()

    /// Sends the tag changes of the given devices (all linked devices when nil). Returns the UEM calls made.
    @discardableResult
    func reconcile(devices deviceIDs: [UUID]?, on database: any Database, now: Date = Date()) async throws -> Int {
        try await reconciling.run { try await self.reconcileNow(devices: deviceIDs, on: database, now: now) }
    }

    private func reconcileNow(devices deviceIDs: [UUID]?, on database: any Database, now: Date) async throws -> Int {
        guard let connection else { return 0 }
        if adoptedUnkeyed != connection.key {
            try await writes.run(priority: .urgent) { try await AppliedTags.adoptUnkeyed(into: connection.key, on: database) }
            adoptedUnkeyed = connection.key
        }
        var query = DeviceModel.query(on: database).filter(\.$enterprise.$id == connection.enterpriseID)
            .filter(\.$uemConnection == connection.key).filter(\.$uemDeviceID != nil)
        if let deviceIDs { query = query.filter(\.$id ~~ deviceIDs) }
        let devices = try await query.all()
        let ids = devices.compactMap(\.id)
        let applied = try await AppliedTagModel.query(on: database).filter(\.$connection == connection.key).filter(\.$device.$id ~~ ids).all()
        var appliedByDevice: [UUID: Set<String>] = [:]
        for tag in applied { appliedByDevice[tag.$device.id, default: []].insert(tag.tagName) }
        var adds: [String: [(UUID, Int)]] = [:]
        var removes: [String: [(UUID, Int)]] = [:]
        for device in devices {
            guard let id = device.id, let uemID = device.uemDeviceID else { continue }
            let desired = connection.mapping.desiredTags(
                activation: device.activationStatus, connection: device.connectionStatus, security: device.securityStatus)
            let current = appliedByDevice[id] ?? []
            for tag in desired.subtracting(current) { adds[tag, default: []].append((id, uemID)) }
            for tag in current.subtracting(desired) { removes[tag, default: []].append((id, uemID)) }
        }
        var levels: [UEMThreatLevel: [(UUID, Int)]] = [:]
        if connection.reportsThreatLevel {
            // A level an automation set holds until the device next checks in (fail closed).
            let pins = try await ThreatLevelPins.active(for: devices, on: database)
            for device in devices {
                guard let id = device.id, let uemID = device.uemDeviceID else { continue }
                let desired = pins[id].flatMap(UEMThreatLevel.init(rawValue:)) ?? UEMThreatLevel(
                    activation: device.activationStatus, security: device.securityStatus)
                let reported = device.uemThreatLevel.flatMap(UEMThreatLevel.init(rawValue:)) ?? .unknown
                if desired != reported { levels[desired, default: []].append((id, uemID)) }
            }
        }
        pendingChanges = adds.values.reduce(0) { $0 + $1.count } + removes.values.reduce(0) { $0 + $1.count } + levels.values.reduce(0) { $0 + $1.count }
        // Every bulk call of the pass runs at once (a few at a time): the UEM's answer time, not the
        // number of calls, bounds how fast access is taken away. Each records what the UEM accepted.
        var jobs: [BulkJob] = []
        for (level, items) in levels {
            for chunk in items.chunked(Self.bulkLimit) { jobs.append(.threatLevel(level, Array(chunk))) }
        }
        for (tag, items) in adds {
            guard let tagID = connection.tagIDs[tag] else { continue }
            for chunk in items.chunked(Self.bulkLimit) { jobs.append(.addTag(tag, tagID, Array(chunk))) }
        }
        var vanished: [String: [UUID]] = [:]
        for (tag, items) in removes {
            // A tag the mapping no longer names (the mapping changed) is removed all the same; one
            // the UEM no longer has at all cannot be on any device there, so only our record goes.
            guard let tagID = connection.tagIDs[tag] ?? connection.knownTagIDs[TagMapping.normalized(tag)] else {
                vanished[tag] = items.map(\.0)
                continue
            }
            for chunk in items.chunked(Self.bulkLimit) { jobs.append(.removeTag(tag, tagID, Array(chunk))) }
        }
        for (tag, deviceIDs) in vanished {
            try await writes.run(priority: .urgent) {
                try await AppliedTagModel.query(on: database).filter(\.$connection == connection.key).filter(\.$device.$id ~~ deviceIDs)
                    .filter(\.$tagName == tag).delete()
            }
            pendingChanges -= deviceIDs.count
        }
        let connector = connection.connector
        let key = connection.key
        let writes = writes
        let logger = logger
        var calls = 0
        var failure: (any Error)?
        await withThrowingTaskGroup(of: Int.self) { group in
            var next = 0
            func start() {
                guard next < jobs.count else { return }
                let job = jobs[next]
                next += 1
                group.addTask { try await job.run(connector: connector, key: key, writes: writes, database: database, now: now, logger: logger) }
            }
            for _ in 0..<min(Self.concurrentCalls, jobs.count) { start() }
            while let result = await group.nextResult() {
                switch result {
                case .success(let accepted):
                    calls += 1
                    pendingChanges -= accepted
                case .failure(let error):
                    // The other calls finish and keep what they achieved; the pass reports the failure.
                    failure = failure ?? error
                }
                if failure == nil { start() }
            }
        }
        callsMade += calls
        if let failure { throw failure }
        lastSuccess = now
        lastError = nil
        return calls
    }

    /// Re-reads the UEM's tag members and forgets applied tags it no longer holds, then reconciles:
    /// a tag removed by hand in the UEM comes back.
    func repairDrift(on database: any Database) async throws {
        guard let connection else { return }
        for (tag, tagID) in connection.tagIDs {
            let holders = Set(try await connection.connector.devices(withTag: tagID))
            let applied = try await AppliedTagModel.query(on: database).filter(\.$connection == connection.key).filter(\.$tagName == tag).with(\.$device).all()
            let lost = applied.filter { record in
                guard record.device.uemConnection == connection.key, let uemID = record.device.uemDeviceID else { return true }
                return !holders.contains(uemID)
            }
            if !lost.isEmpty {
                try await writes.run { for tag in lost { try await tag.delete(on: database) } }
            }
        }
        try await reconcile(devices: nil, on: database)
    }
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}

/// One bulk UEM call of a reconciliation pass and the record of what the UEM accepted.
enum BulkJob: Sendable {
    case threatLevel(UEMThreatLevel, [(UUID, Int)])
    case addTag(String, Int, [(UUID, Int)])
    case removeTag(String, Int, [(UUID, Int)])

    /// Returns how many changes the UEM accepted.
    func run(connector: any UEMConnector, key: String, writes: WriteGate, database: any Database, now: Date, logger: Logger) async throws -> Int {
        switch self {
        case .threatLevel(let level, let chunk):
            let result = try await connector.reportThreatLevel(level, devices: chunk.map(\.1))
            let accepted = Set(result.accepted)
            let deviceIDs = chunk.filter { accepted.contains($0.1) }.map(\.0)
            if !deviceIDs.isEmpty {
                try await writes.run(priority: .urgent) {
                    try await DeviceModel.query(on: database).filter(\.$id ~~ deviceIDs).filter(\.$uemConnection == key).set(\.$uemThreatLevel, to: level == .unknown ? nil : level.rawValue).update()
                }
            }
            return deviceIDs.count
        case .addTag(let tag, let tagID, let chunk):
            let result = try await connector.addDevices(chunk.map(\.1), toTag: tagID)
            let accepted = Set(result.accepted)
            let deviceIDs = chunk.filter { accepted.contains($0.1) }.map(\.0)
            if !deviceIDs.isEmpty {
                try await writes.run(priority: .urgent) { try await AppliedTags.record(deviceIDs, tag: tag, connection: key, at: now, on: database) }
            }
            if !result.faults.isEmpty { logger.warning("UEM refused some tag additions; retrying later", metadata: ["tag": "\(tag)", "faults": "\(result.faults)"]) }
            return deviceIDs.count
        case .removeTag(let tag, let tagID, let chunk):
            let result = try await connector.removeDevices(chunk.map(\.1), fromTag: tagID)
            let accepted = Set(result.accepted)
            let deviceIDs = chunk.filter { accepted.contains($0.1) }.map(\.0)
            if !deviceIDs.isEmpty {
                try await writes.run(priority: .urgent) {
                    try await AppliedTagModel.query(on: database).filter(\.$connection == key).filter(\.$device.$id ~~ deviceIDs).filter(\.$tagName == tag).delete()
                }
            }
            return deviceIDs.count
        }
    }
}
