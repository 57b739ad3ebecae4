import Foundation
import MTDCore
import MTDStore

/// The last check-in of a device, without its app inventory (that lives in `device_apps`), as kept
/// for re-evaluation after a policy change.
enum StoredFacts {
    static func text(_ checkIn: CheckIn) -> String {
        StoredJSON.text(checkIn)
    }

    /// The check-in's own body as the stored facts of a steady-state check-in, when it can be kept
    /// as it came: encoding the decoded check-in again cost 6 % of the server's CPU per check-in.
    /// Such a body's inventory section is empty or a same-version delta, and re-evaluation takes
    /// the inventory from `device_apps` anyway. Bodies that are large, not UTF-8 text starting
    /// with `{`, or hold NUL bytes (which PostgreSQL text refuses) are encoded from the check-in.
    static func text(_ checkIn: CheckIn, body: Data?) -> String {
        if let body, body.count <= maximumVerbatimBytes, body.first == UInt8(ascii: "{"), !body.contains(0),
           let text = String(data: body, encoding: .utf8) {
            return text
        }
        return text(checkIn)
    }

    static let maximumVerbatimBytes = 16_384

    static func checkIn(_ text: String?) -> CheckIn? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(CheckIn.self, from: Data(text.utf8))
    }
}
