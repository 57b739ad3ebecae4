import Foundation
import FuzzSupport
import MTDCore
import MTDIntel

/// Any bytes as every `intel import` format (STIX2, stalkerware YAML and samples, host lists, uBlock
/// rules, app CSV and JSON): the builder adds what it understands or throws an IntelligenceError
/// naming the file; never a trap.
func fuzzIntel(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let data = FuzzDriver.data(bytes, count)
    for format in IntelligenceFormat.allCases {
        var builder = IntelligenceBuilder()
        let entry = IntelligenceFileEntry(file: "fuzz.\(format.rawValue)", format: format, id: "fuzz", name: "fuzz",
                                          classification: .backdoor, websitesClassification: .phishingContent)
        do {
            try builder.add(entry, data: data)
        } catch {
            _ = "\(error)"
        }
    }
    return 0
}

// libFuzzer's own main may be linked in and call this directly; otherwise the top-level code starts it.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 { fuzzIntel(bytes, count) }

FuzzDriver.run { bytes, count in fuzzIntel(bytes, count) }
