import Foundation
import MTDCore
import MTDServices
import Vapor

/// `/agent/v1`: activation, check-in and deactivation for device agents.
enum AgentController {
    static func activate(_ req: Request) async throws -> Response {
        let services = req.application.mtd
        let client = req.clientAddress
        if let wait = try await services.activationLimiter.wait(client, on: req.db) {
            throw APIError(status: .tooManyRequests, code: "rate_limited", message: "too many activation attempts; retry in \(wait) s", retryAfterSeconds: wait)
        }
        let body = try req.content.decode(ActivateRequest.self)
        guard !body.enrollmentCode.isEmpty else { throw APIError.badRequest("enrollmentCode must not be empty", field: "$.enrollmentCode") }
        guard body.udid?.isEmpty == false || body.externalId?.isEmpty == false else {
            throw APIError.badRequest("give udid (DEVICE_UDID) or externalId so the device can be matched with the UEM", field: "$.udid")
        }
        do {
            let activation = try await services.activation.activate(
                .init(enrollmentCode: body.enrollmentCode, udid: body.udid, externalID: body.externalId, email: body.email,
                      mdm: body.mdm, platform: body.platform, mode: body.mode, agentVersion: body.agentVersion),
                on: req.db)
            services.metrics.activations.increment()
            await linkInUEM(activation.deviceID, req)
            let response = ActivateResponse(
                deviceId: activation.deviceID.uuidString.lowercased(), credential: activation.credential,
                checkInIntervalSeconds: services.configuration.checkInIntervalSeconds, reactivated: activation.reactivated,
                resolverToken: activation.resolverToken)
            return try await response.encodeResponse(status: .created, for: req)
        } catch ActivationService.Failure.unknownCode {
            try await services.activationLimiter.take(client, on: req.db)
            req.logger.warning("activation with an unknown enrollment code", metadata: ["client": "\(client)"])
            throw APIError(status: .forbidden, code: "invalid_enrollment_code", message: "unknown enrollment code; check GLOBAL_ENROLLMENT_CODE or the Hub mtdSettings")
        } catch ActivationService.Failure.unusableCode(_, let reason) {
            try await services.activationLimiter.take(client, on: req.db)
            throw APIError(status: .forbidden, code: "invalid_enrollment_code", message: "this enrollment code is \(reason); ask the admin for the current one")
        }
    }

    /// Instant linking: the UEM is asked for the phone before the activation is answered, so its
    /// first check-in already finds it linked. A UEM that is slow or down never fails an activation:
    /// after a few seconds, or on an error, periodic device sync links it instead.
    static func linkInUEM(_ deviceID: UUID, _ req: Request) async {
        let sync = req.application.mtd.uemSync
        // The application's database, not the request's: the lookup may outlive a missed deadline.
        let database = req.application.db
        do {
            let linked = try await Deadline.run(seconds: linkSeconds) { try await sync.linkAtActivation(deviceID: deviceID, on: database) }
            if !linked { req.logger.debug("activated device is not in the UEM yet; device sync links it later", metadata: ["device": "\(deviceID)"]) }
        } catch {
            req.logger.warning("could not look the activated device up in the UEM; device sync links it later",
                               metadata: ["device": "\(deviceID)", "error": "\(error)"])
        }
    }

    static let linkSeconds = 3.0

    static func checkIn(_ req: Request) async throws -> CheckInResponse {
        let device = try req.agentDevice
        guard let buffer = req.body.data else { throw APIError.badRequest("empty body; send a check-in document", field: "$") }
        let body = Data(buffer: buffer)
        let checkIn = try CheckInDecoder().decode(body)
        let services = req.application.mtd
        let started = DispatchTime.now()
        let result = try await services.checkIns.checkIn(checkIn, deviceID: device.deviceID, enterpriseID: device.enterpriseID, snapshot: device.snapshot, body: body, on: req.db)
        services.metrics.recordCheckIn(seconds: Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9, opened: result.opened, resolved: result.resolved, retries: result.retries, locked: result.locked)
        return CheckInResponse(
            nextCheckInSeconds: services.configuration.checkInIntervalSeconds, policyVersion: result.policyVersion,
            securityStatus: result.securityStatus, fullInventoryRequired: result.fullInventoryRequired, actions: [])
    }

    static func deactivate(_ req: Request) async throws -> HTTPStatus {
        let device = try req.agentDevice
        try await req.application.mtd.activation.deactivate(
            deviceID: device.deviceID, actor: .init(type: "DEVICE", guid: device.deviceID.uuidString.lowercased()), on: req.db)
        return .noContent
    }
}
