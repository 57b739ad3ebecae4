import Foundation
import MTDCore
import MTDStore

/// The last check-in of a device, without its app inventory (that lives in `device_apps`), as kept
/// for re-evaluation after a policy change.
enum StoredFacts {
    static func text(_ checkIn: CheckIn) -> String {
        StoredJSON.text(checkIn)
    }

    static func checkIn(_ text: String?) -> CheckIn? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(CheckIn.self, from: Data(text.utf8))
    }
}
