import Foundation
import FuzzSupport
import MTDCore
import MTDDetection

/// Any bytes as a policy, in JSON and in YAML: decoding either gives a policy or a DocumentError
/// naming the field; never a trap. A decoded policy must encode and decode again.
func fuzzPolicy(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let data = FuzzDriver.data(bytes, count)
    for format in [PolicyDocument.Format.json, .yaml] {
        let policy: Policy
        do {
            policy = try PolicyDocument.decode(data, format: format)
        } catch {
            precondition(!error.path.isEmpty, "a refused policy must name the field")
            continue
        }
        // Saved policies are stored as JSON and read back at every start.
        do {
            _ = try PolicyDocument.decode(PolicyDocument.encode(policy), format: .json)
        } catch {
            fatalError("an accepted policy does not survive encoding and decoding: \(error)")
        }
    }
    return 0
}

// libFuzzer's own main may be linked in and call this directly; otherwise the top-level code starts it.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 { fuzzPolicy(bytes, count) }

FuzzDriver.run { bytes, count in fuzzPolicy(bytes, count) }
