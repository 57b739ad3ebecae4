import Foundation
import Vapor

/// `/api/v1/consumers`: what each event-log consumer is doing, where it runs and how far behind it is.
enum ConsumerController {
    static func list(_ req: Request) async throws -> ConsumerList {
        _ = try req.admin
        let runner = req.application.mtd.consumers
        let statuses = try await runner.status(on: req.db)
        return ConsumerList(replica: runner.holder, consumers: statuses.map(ConsumerStatusResponse.init))
    }
}
