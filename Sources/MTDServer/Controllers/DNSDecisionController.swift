import FluentKit
import Foundation
import MTDCore
import MTDDetection
import MTDStore
import Vapor

/// `GET /api/v1/dns/decision?name=&type=&device=`: explains the protective resolver's decision as
/// the running server makes it (the enterprise's policy in force and the server's intelligence,
/// imports included), for `openmtd dns query --server`. Every admin role may ask: it reveals the
/// policy's decision, never what a device looked up.
enum DNSDecisionController {
    struct Query: Content {
        var name: String?
        var type: String?
        var device: String?
    }

    static func explain(_ req: Request) async throws -> DNSDecisionExplanation {
        let principal = try req.admin
        let query = try req.query.decode(Query.self)
        guard let text = query.name, !text.isEmpty else {
            throw APIError.badRequest("name is required, e.g. ?name=login.example.com", field: "name")
        }
        guard let parsed = DNSName(text.lowercased()), !parsed.host.isEmpty else {
            throw APIError.badRequest("name is not a DNS name: labels of 1 to 63 bytes, 255 bytes in all", field: "name")
        }
        let typeText = query.type.flatMap { $0.isEmpty ? nil : $0 } ?? "A"
        guard let recordType = DNSRecordType(name: typeText) else {
            throw APIError.badRequest("type must be a record type such as A, AAAA, TXT or TYPE65", field: "type")
        }
        var deviceModel: DeviceModel?
        if let deviceText = query.device, !deviceText.isEmpty {
            guard let id = UUID(uuidString: deviceText) else { throw APIError.badRequest("device must be a device id (a UUID)", field: "device") }
            guard let found = try await DeviceModel.query(on: req.db).filter(\.$id == id).filter(\.$enterprise.$id == principal.enterpriseID).first() else {
                throw APIError.notFound("device")
            }
            deviceModel = found
        }
        let current = try await req.application.mtd.policies.current(for: principal.enterpriseID, on: req.db)
        let host = parsed.host
        let decision = current.engine.dnsDecision(for: host)
        var explanation = DNSDecisionExplanation(
            name: host, type: recordType.description, action: decision.verdict.rawValue,
            classification: decision.classification?.rawValue, indicator: decision.indicator, source: decision.source,
            label: decision.label, allowedBy: decision.allowedBy,
            extendedError: decision.extendedErrorCode.map { .init(code: Int($0), text: decision.explanation) },
            answer: decision.answerDescription(type: recordType, rules: current.engine.protectiveDNSRules),
            policyVersion: current.version, resolverRunning: req.application.mtd.dns.resolver != nil)
        if let deviceModel {
            explanation.device = try await device(deviceModel, decision: decision, on: req.db)
        }
        return explanation
    }

    /// The device's token state and its resolver threat for the decision's indicator, if any.
    static func device(_ device: DeviceModel, decision: DNSDecision, on database: any Database) async throws -> DNSDecisionDevice {
        let deviceID = try device.requireID()
        let tokens = try await ResolverTokens.state(deviceID: deviceID, on: database)
        let active = tokens.active
        let state = active != nil ? "ACTIVE" : tokens.newest == nil ? "NONE" : "REVOKED"
        var threat: DNSDecisionThreat?
        if let indicator = decision.indicator {
            let found = try await ThreatModel.query(on: database).filter(\.$device.$id == deviceID)
                .filter(\.$subject == ThreatKey.resolverSubjectPrefix + indicator).sort(\.$detectedAt, .descending).first()
            threat = try found.map {
                DNSDecisionThreat(id: try $0.requireID().uuidString.lowercased(), classification: $0.classification, severity: $0.severity.rawValue,
                                  status: $0.status.rawValue, detectedAt: $0.detectedAt, lastSeenAt: $0.updatedAt)
            }
        }
        let activated = device.activationStatus == .activated
        return DNSDecisionDevice(id: deviceID.uuidString.lowercased(), resolverToken: state,
                                 lastQueryAt: (active ?? tokens.newest)?.lastQueryAt,
                                 reported: activated && active != nil && decision.verdict != .allow && decision.classification != nil,
                                 threat: threat)
    }
}
