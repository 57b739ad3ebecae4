import FluentKit
import Foundation
import Logging
import MTDStore
import NIOConcurrencyHelpers
import Vapor

/// UEM sync on the event log, in one replica: DEVICE events name the devices whose tags and threat
/// level to reconcile; a UEM_CONNECTION audit event (an admin saved another UEM or mapping) makes
/// it reconnect from the saved settings and reconcile every device. Its ticks sync the UEM's device
/// list and repair drift on their intervals, and connect when the replica that took the lease has
/// no connection yet.
struct UEMSyncConsumer: EventConsumer {
    let app: Application
    let services: MTDServices
    let logger: Logger
    private let schedule = NIOLockedValueBox<Schedule>(Schedule())

    private struct Schedule {
        var lastConnectAttempt = Date.distantPast
        var lastDeviceSync = Date.distantPast
        var lastRepair = Date()
    }

    init(app: Application, services: MTDServices, logger: Logger) {
        self.app = app
        self.services = services
        self.logger = logger
    }

    var name: String { UEMSync.cursorName }
    var eventTypes: [EventType]? { [.device, .audit] }
    var coalesceSeconds: Double { Double(services.configuration.uemCoalesceMilliseconds) / 1000 }
    var tickSeconds: Double? { 1 }

    func isReady() async -> Bool {
        await services.uemSync.isConnected
    }

    func process(_ events: [EventModel], on database: any Database) async throws {
        do {
            try await reconcile(events, on: database)
        } catch {
            // The admin API's sync status tells of it too, not only the consumer's.
            await services.uemSync.recordFailure(error)
            throw error
        }
    }

    private func reconcile(_ events: [EventModel], on database: any Database) async throws {
        let sync = services.uemSync
        let reconnect = events.contains { $0.auditType == "UEM_CONNECTION" }
        if reconnect {
            if try await UEMConnectionLifecycle.connect(app: app, services: services) {
                try await sync.reconcile(devices: nil, on: database)
            }
            return
        }
        let devices = Set(events.filter { $0.type == EventType.device.rawValue }.compactMap { UUID(uuidString: $0.targetID) })
        guard !devices.isEmpty else { return }
        try await sync.reconcile(devices: Array(devices), on: database)
    }

    func tick(on database: any Database, now: Date) async throws {
        let configuration = services.configuration
        let sync = services.uemSync
        if !(await sync.isConnected) {
            guard configuration.connectUEMAtStart else { return }
            let due = schedule.withLockedValue { schedule in
                guard now.timeIntervalSince(schedule.lastConnectAttempt) >= 5 else { return false }
                schedule.lastConnectAttempt = now
                return true
            }
            guard due else { return }
            do {
                guard try await UEMConnectionLifecycle.connect(app: app, services: services) else { return }
            } catch {
                await sync.recordFailure(error)
                logger.warning("UEM connection failed; retrying", metadata: ["error": "\(error)"])
                return
            }
        }
        let (deviceSyncDue, repairDue) = schedule.withLockedValue { schedule in
            let deviceSync = now.timeIntervalSince(schedule.lastDeviceSync) >= Double(configuration.uemDeviceSyncSeconds)
            let repair = now.timeIntervalSince(schedule.lastRepair) >= Double(configuration.uemRepairSeconds)
            if deviceSync { schedule.lastDeviceSync = now }
            if repair { schedule.lastRepair = now }
            return (deviceSync, repair)
        }
        do {
            if deviceSyncDue, configuration.connectUEMAtStart {
                let result = try await sync.syncDevices(on: database, now: now)
                if result.created > 0 || result.deleted > 0 {
                    logger.info("UEM device sync", metadata: ["seen": "\(result.seen)", "created": "\(result.created)", "deleted": "\(result.deleted)"])
                }
            }
            if repairDue { try await sync.repairDrift(on: database) }
        } catch {
            await sync.recordFailure(error)
            throw error
        }
    }
}
