import FluentKit
import Foundation
import MTDCore
import MTDStore

/// What a rule would have done over the last days of the event log, decided by the same matcher
/// and planner as the live consumer, with the replay's own history standing in for the stored one.
public struct DryRunResult: Codable, Sendable, Equatable {
    public struct DeviceRuns: Codable, Sendable, Equatable {
        public var deviceId: String
        public var runs: Int
    }

    public struct Example: Codable, Sendable, Equatable {
        public var eventId: Int
        public var deviceId: String
        public var at: Date
        public var runs: Bool
        public var reason: String
    }

    public var days: Int
    public var eventsRead: Int
    /// Events that matched the trigger.
    public var triggered: Int
    /// Triggers that would have run the actions (after count and throttle).
    public var wouldRun: Int
    public var devices: [DeviceRuns]
    /// The first triggers, oldest first.
    public var examples: [Example]
    /// True when the replay stopped at its event limit before reaching now.
    public var truncated: Bool
}

extension Automations {
    public func dryRun(_ rule: AutomationRule, enterpriseID: UUID, days: Int, on database: any Database, now: Date) async throws -> DryRunResult {
        let start = try await EventLog.lastPosition(before: now.addingTimeInterval(-Double(days) * 86_400), on: database)
        let head = try await EventLog.head(on: database)
        var cursor = start
        var read = 0
        var history: [UUID: [Date]] = [:]
        var lastRun: [UUID: Date] = [:]
        var perDevice: [UUID: Int] = [:]
        var triggered = 0, wouldRun = 0
        var examples: [DryRunResult.Example] = []
        while cursor < head, read < settings.dryRunEventLimit {
            let batch = try await EventLog.read(after: cursor, upTo: head, enterpriseID: enterpriseID, types: Self.eventTypes,
                                                limit: min(2_000, settings.dryRunEventLimit - read), on: database)
            guard let last = batch.last?.id else { break }
            cursor = last
            read += batch.count
            for event in try await EventFacts.build(batch, on: database) where RuleMatcher.triggers(rule, on: event) {
                guard let device = event.deviceID else { continue }
                triggered += 1
                let decision = RunPlanner.decide(rule, event: event, history: history[device, default: []], lastRun: lastRun[device])
                history[device, default: []].append(event.createdAt)
                if decision.runs {
                    wouldRun += 1
                    lastRun[device] = event.createdAt
                    perDevice[device, default: 0] += 1
                }
                if examples.count < 50 {
                    examples.append(.init(eventId: event.position, deviceId: device.uuidString.lowercased(), at: event.createdAt,
                                          runs: decision.runs, reason: decision.reason))
                }
            }
        }
        let devices = perDevice.map { DryRunResult.DeviceRuns(deviceId: $0.key.uuidString.lowercased(), runs: $0.value) }
            .sorted { ($0.runs, $1.deviceId) > ($1.runs, $0.deviceId) }
        return DryRunResult(days: days, eventsRead: read, triggered: triggered, wouldRun: wouldRun, devices: devices, examples: examples,
                            truncated: cursor < head && read >= settings.dryRunEventLimit)
    }
}
