import BuiltinUEM
import Foundation
@testable import MTDServer
import Testing
import UEMClient

/// Several `openmtd serve` processes on one database.
@Suite(.serialized) struct ReplicaTests {
    /// A second replica starting must not lock the first out of the built-in UEM: both use the one
    /// stored service-account password.
    @Test(arguments: TestDatabase.available)
    func replicasShareTheBuiltinUEMServiceAccount(_ database: TestDatabase) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("openmtd-replicas-\(UUID().uuidString)").path
        try await withServer(database, dataDirectory: folder) { first in
            let before = try await first.app.mtd.builtinServiceAccount(app: first.app)
            try await withServer(database, dataDirectory: folder, keepData: true) { second in
                let theirs = try await second.app.mtd.builtinServiceAccount(app: second.app)
                #expect(theirs.username == before.username)
                #expect(theirs.password == before.password)
                // The first replica still gets in with what it holds.
                let client = WorkspaceOneClient(settings: .init(baseURL: first.baseURL + "/API", tenantCode: before.tenantCode,
                                                                username: before.username, password: before.password), egress: nil)
                let info = try await client.systemInfo()
                #expect(info.capabilities.contains("MTDThreatLevel"))
            }
        }
    }
}
