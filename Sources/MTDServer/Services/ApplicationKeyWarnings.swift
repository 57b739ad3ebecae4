import FluentKit
import Foundation
import Logging
import MobileRiskAPI
import MTDStore

/// Warns owners before an application key expires, at 30, 21, 14, 7, 5, 3 and 2 days (AUDIT events,
/// the console banner, `openmtd_application_keys_expiring`): a SIEM whose key lapses silently stops
/// receiving threats. Checks hourly; each warning goes out once, from whichever replica comes first.
enum ApplicationKeyWarnings {
    static let logger = Logger(label: "openmtd.application-keys")

    static func run(services: MTDServices, database: @escaping @Sendable () -> any Database) async {
        while !Task.isCancelled {
            do {
                let now = Date()
                for (key, days) in try await services.mobileRisk.keys.dueWarnings(now: now, on: database()) {
                    logger.notice("application key expires soon", metadata: ["key": "\(key.name)", "days": "\(days)"])
                }
                services.metrics.applicationKeysExpiring.set(Double(try await services.mobileRisk.keys.expiring(now: now, on: database())))
            } catch {
                logger.warning("could not check application key expiry; retrying in an hour", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(nanoseconds: 3_600_000_000_000)
        }
    }
}
