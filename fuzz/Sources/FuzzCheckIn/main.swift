import Foundation
import FuzzSupport
import MTDCore

/// Any bytes as a check-in: the decoder either returns a valid check-in or throws a DocumentError
/// naming the field; it must never trap. A decoded check-in must survive a round trip.
func fuzzCheckIn(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let data = FuzzDriver.data(bytes, count)
    let decoder = CheckInDecoder()
    let checkIn: CheckIn
    do {
        checkIn = try decoder.decode(data)
    } catch {
        precondition(!error.path.isEmpty, "a refused check-in must name the field")
        return 0
    }
    // What the server accepted and stores must read back: a stored check-in that no longer decodes
    // would be lost data.
    do {
        _ = try decoder.decode(try JSONEncoder().encode(checkIn))
    } catch {
        fatalError("an accepted check-in does not survive encoding and decoding: \(error)")
    }
    return 0
}

// libFuzzer's own main may be linked in and call this directly; otherwise the top-level code starts it.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 { fuzzCheckIn(bytes, count) }

FuzzDriver.run { bytes, count in fuzzCheckIn(bytes, count) }
