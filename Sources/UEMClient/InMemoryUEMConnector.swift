import Foundation
import MTDCore

/// A UEM held in memory: enrolled devices, tags and their members, reported threat levels, and a
/// count of the calls made. It answers the way a Workspace ONE tenant does (unknown device ids are
/// faults, not failures), so UEM sync can be tested, and demonstrated, without HTTP or a database
/// of its own.
public actor InMemoryUEMConnector: UEMConnector {
    public private(set) var enrolled: [UEMDeviceRecord] = []
    public private(set) var tagNames: [Int: String] = [:]
    public private(set) var members: [Int: Set<Int>] = [:]
    public private(set) var threatLevels: [Int: UEMThreatLevel] = [:]
    /// Bulk calls by kind: `add`, `remove`, `threat-level`.
    public private(set) var calls: [String: Int] = [:]
    /// Bulk items that asked for what was already so.
    public private(set) var unchangedItems = 0
    /// Commands and messages sent, in order: (device, `Lock`… or `Message: <text>`).
    public private(set) var commands: [(device: Int, command: String)] = []
    public var info = UEMSystemInfo(product: "In-memory UEM", version: "1", capabilities: ["MTDThreatLevel"])
    private var nextID = 1

    public init() {}

    /// Enrols a phone; returns its numeric id.
    @discardableResult
    public func enroll(udid: String, platform: String = "Android", email: String? = nil) -> Int {
        let id = nextID
        nextID += 1
        enrolled.append(UEMDeviceRecord(
            id: id, uuid: "uuid-\(id)-\(udid)", udid: udid, serialNumber: nil, email: email, userName: nil, platform: platform,
            operatingSystem: nil, model: nil))
        return id
    }

    public func device(_ lookup: UEMDeviceLookup) async throws(UEMClientError) -> UEMDeviceRecord? {
        return enrolled.first { record in
            switch lookup {
            case .uuid(let value): record.uuid.lowercased() == value.lowercased()
            case .udid(let value): record.udid == value
            case .serialNumber(let value): record.serialNumber == value
            case .imei: false // the in-memory UEM keeps no IMEI
            }
        }
    }

    /// Removes a phone, as when it leaves the UEM.
    public func unenroll(id: Int) {
        enrolled.removeAll { $0.id == id }
        for tag in members.keys { members[tag]?.remove(id) }
        threatLevels[id] = nil
    }

    /// The names of the tags a device carries.
    public func tags(of deviceID: Int) -> Set<String> {
        Set(members.filter { $0.value.contains(deviceID) }.compactMap { tagNames[$0.key] })
    }

    /// Takes a tag off a device behind the MTD's back (drift).
    public func removeByHand(_ tagName: String, from deviceID: Int) {
        guard let tagID = tagNames.first(where: { $0.value == tagName })?.key else { return }
        members[tagID]?.remove(deviceID)
    }

    public func devices(page: Int, pageSize: Int) async throws(UEMClientError) -> UEMDevicePage {
        guard page >= 0, pageSize > 0 else { throw .unexpected("page \(page) of size \(pageSize)") }
        let (start, overflow) = page.multipliedReportingOverflow(by: pageSize)
        guard !overflow, start < enrolled.count else { return UEMDevicePage(devices: [], total: enrolled.count) }
        // pageSize may be anything a caller passes: the end is bounded by what is left, never by a sum.
        return UEMDevicePage(devices: Array(enrolled[start..<(start + min(pageSize, enrolled.count - start))]), total: enrolled.count)
    }

    public func tags() async throws(UEMClientError) -> [UEMTagInfo] {
        tagNames.map { UEMTagInfo(id: $0.key, name: $0.value) }.sorted { $0.id < $1.id }
    }

    public func createTag(named name: String) async throws(UEMClientError) -> Int {
        if let existing = tagNames.first(where: { $0.value == name }) { return existing.key }
        let id = 1000 + tagNames.count
        tagNames[id] = name
        return id
    }

    public func addDevices(_ deviceIDs: [Int], toTag tagID: Int) async throws(UEMClientError) -> UEMBulkResult {
        try change(deviceIDs, tag: tagID, adding: true)
    }

    public func removeDevices(_ deviceIDs: [Int], fromTag tagID: Int) async throws(UEMClientError) -> UEMBulkResult {
        try change(deviceIDs, tag: tagID, adding: false)
    }

    public func devices(withTag tagID: Int) async throws(UEMClientError) -> [Int] {
        guard tagNames[tagID] != nil else { throw .notFound("tag \(tagID)") }
        return (members[tagID] ?? []).sorted()
    }

    public func systemInfo() async throws(UEMClientError) -> UEMSystemInfo {
        info
    }

    public func reportThreatLevel(_ level: UEMThreatLevel, devices deviceIDs: [Int]) async throws(UEMClientError) -> UEMBulkResult {
        calls["threat-level", default: 0] += 1
        return apply(to: deviceIDs) { id in
            defer { threatLevels[id] = level }
            return threatLevels[id] != level
        }
    }

    public func sendCommand(_ command: UEMDeviceCommand, device deviceID: Int) async throws(UEMClientError) {
        guard enrolled.contains(where: { $0.id == deviceID }) else { throw .notFound("device \(deviceID) is not enrolled") }
        commands.append((device: deviceID, command: command.rawValue))
    }

    public func sendMessage(_ text: String, device deviceID: Int) async throws(UEMClientError) {
        guard enrolled.contains(where: { $0.id == deviceID }) else { throw .notFound("device \(deviceID) is not enrolled") }
        commands.append((device: deviceID, command: "Message: \(text)"))
    }

    public func tagNames(ofDevice deviceID: Int) async throws(UEMClientError) -> [String] {
        tags(of: deviceID).sorted()
    }

    /// This UEM has no smart groups.
    public func members(ofSmartGroup groupID: Int) async throws(UEMClientError) -> [Int] { [] }

    private func change(_ deviceIDs: [Int], tag tagID: Int, adding: Bool) throws(UEMClientError) -> UEMBulkResult {
        guard tagNames[tagID] != nil else { throw .notFound("tag \(tagID)") }
        calls[adding ? "add" : "remove", default: 0] += 1
        return apply(to: deviceIDs) { id in
            let had = members[tagID, default: []].contains(id)
            if adding { members[tagID, default: []].insert(id) } else { members[tagID]?.remove(id) }
            return had != adding
        }
    }

    /// Accepts the enrolled devices among `deviceIDs` (unknown ids are faults, as in Workspace ONE);
    /// `change` applies the call to one device and says whether anything changed.
    private func apply(to deviceIDs: [Int], _ change: (Int) -> Bool) -> UEMBulkResult {
        let known = Set(enrolled.map(\.id))
        var accepted: [Int] = []
        var faults: [Int: String] = [:]
        for id in deviceIDs {
            guard known.contains(id) else {
                faults[id] = "Device not found for this request."
                continue
            }
            if !change(id) { unchangedItems += 1 }
            accepted.append(id)
        }
        return UEMBulkResult(accepted: accepted, faults: faults)
    }
}
