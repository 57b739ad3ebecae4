import FluentKit
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
@testable import MTDServer
@testable import MTDStore
import SQLKit
import Testing
import Vapor

/// One phone is one device: (enterprise, UDID) and (enterprise, UEM device id) are unique, even when
/// an agent's activations arrive all at once.
@Suite(.serialized) struct DeviceIdentityTests {
    @Test(arguments: TestDatabase.available)
    func concurrentActivationsOfOnePhoneMakeOneDevice(_ database: TestDatabase) async throws {
        try await withServer(database) { server in
            // Three phones, each activated twenty times at once: half the calls carry the UEM id too.
            for phone in 1...3 {
                let replies = try await withThrowingTaskGroup(of: TestServer.Reply.self) { group in
                    for index in 0..<20 {
                        group.addTask {
                            var body: [String: Any] = ["enrollmentCode": server.enrollmentCode, "platform": "ANDROID", "mode": "EMBEDDED", "udid": "phone-\(phone)"]
                            if index.isMultiple(of: 2) { body["externalId"] = "uem-uuid-\(phone)" }
                            // As the agent does: a 503 (no database connection free within 3 s, which
                            // happens when the whole suite shares two cores) is retried after Retry-After.
                            var reply = try await server.send(.POST, "/agent/v1/activate", json: body)
                            for _ in 0..<5 where reply.status == 503 {
                                try await Task.sleep(nanoseconds: 2_000_000_000)
                                reply = try await server.send(.POST, "/agent/v1/activate", json: body)
                            }
                            return reply
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(replies.allSatisfy { $0.status == 201 }, "\(replies.filter { $0.status != 201 }.map(\.text))")
                #expect(Set(replies.compactMap { $0.json["deviceId"] as? String }).count == 1, "phone-\(phone)")
                let devices = try await DeviceModel.query(on: server.app.db).filter(\.$udid == "phone-\(phone)").all()
                #expect(devices.count == 1)
                #expect(devices.first?.externalID == "uem-uuid-\(phone)")
            }
            #expect(try await DeviceModel.query(on: server.app.db).count() == 3)
        }
    }

    /// Duplicates stored before the indexes were unique are folded into the most recently activated device.
    @Test(arguments: TestDatabase.available)
    func theMigrationFoldsDuplicatesStoredBefore(_ database: TestDatabase) async throws {
        let app = try await Application.make(Environment(name: "testing", arguments: ["vapor"]))
        app.logger.logLevel = .warning
        do {
            if database == .postgres {
                let base = try TestDatabase.requirePostgresURL()
                let name = "openmtd_fold_" + String(UUID().uuidString.prefix(8)).lowercased()
                try await TestServer.recreatePostgresDatabase(named: name, serverURL: base)
                let slash = try #require(base.range(of: "/", options: .backwards))
                app.databases.use(try .postgres(url: String(base[..<slash.lowerBound]) + "/" + name), as: .psql)
            } else {
                let file = FileManager.default.temporaryDirectory.appendingPathComponent("fold-\(UUID().uuidString).sqlite").path
                app.databases.use(.sqlite(.file(file)), as: .sqlite)
            }
            // The schema as it was before M014.
            for migration in StoreMigrations.all where !(migration is M014_UniqueDeviceIdentity) { app.migrations.add(migration) }
            try await app.autoMigrate()
            let enterprise = EnterpriseModel(name: "Fold")
            try await enterprise.create(on: app.db)
            let enterpriseID = try enterprise.requireID()
            func device(_ udid: String?, external: String?, activated: TimeInterval?) async throws -> UUID {
                let device = DeviceModel()
                device.$enterprise.id = enterpriseID
                device.udid = udid
                device.externalID = external
                device.platform = "ANDROID"
                device.mode = "EMBEDDED"
                device.activationStatus = .activated
                device.connectionStatus = .connected
                device.securityStatus = .secure
                device.credentialHash = UUID().uuidString
                device.revision = 0
                device.activatedAt = activated.map { Date(timeIntervalSince1970: $0) }
                try await device.create(on: app.db)
                return try device.requireID()
            }
            let old = try await device("phone-1", external: nil, activated: 1_000)
            let newest = try await device("phone-1", external: "uem-1", activated: 3_000)
            let middle = try await device("phone-1", external: "uem-1", activated: 2_000)
            let other = try await device("phone-2", external: nil, activated: 1_000)
            _ = try await device("", external: "", activated: nil)
            _ = try await device("", external: "", activated: nil)

            app.migrations.add(M014_UniqueDeviceIdentity())
            try await app.autoMigrate()

            let kept = try #require(try await DeviceModel.find(newest, on: app.db))
            #expect(kept.udid == "phone-1" && kept.externalID == "uem-1" && kept.activationStatus == .activated)
            for folded in [old, middle] {
                let device = try #require(try await DeviceModel.find(folded, on: app.db))
                #expect(device.udid == nil && device.activationStatus == .deactivated && device.credentialHash == nil)
            }
            #expect(try await DeviceModel.find(other, on: app.db)?.activationStatus == .activated)
            #expect(try await DeviceModel.query(on: app.db).filter(\.$udid == "").count() == 0)
            // The index now refuses a second phone-2.
            await #expect(throws: (any Error).self) { _ = try await device("phone-2", external: nil, activated: 5_000) }
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }
}
