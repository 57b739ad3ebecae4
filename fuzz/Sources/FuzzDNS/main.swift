import Foundation
import FuzzSupport
import MTDCore

/// Any bytes as a DNS message (what a client or an upstream may send): decoding yields a message
/// or a `DNSMessageError`, never a trap. A message that decodes is written again and reads back
/// equal, and the wire scan's smallest TTL is the decoded one; cut to a UDP size it stays within it (one question) and still decodes with TC set.
func fuzzDNS(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let input = [UInt8](FuzzDriver.data(bytes, count))
    let scanned = DNSWireScan.minimumTTL(input)
    guard let message = try? DNSMessage(decoding: input) else { return 0 }
    // The DoH path reads the smallest TTL off the wire: it must agree with the decoder.
    precondition(scanned == (message.answers + message.authorities).map(\.ttl).min(), "the wire scan's TTL differs from the decoded one")
    let written = message.encoded()
    guard let again = try? DNSMessage(decoding: written) else { fatalError("a message we wrote does not decode") }
    precondition(again == message, "a written message reads back different")
    var reply = message.response(code: .noError)
    reply.answers = message.answers + message.authorities + message.additionals
    let cut = reply.encoded(maxSize: 512)
    if reply.questions.count <= 1 { precondition(cut.count <= 512, "a cut answer is \(cut.count) bytes") }
    guard let decoded = try? DNSMessage(decoding: cut) else { fatalError("a cut answer does not decode") }
    precondition(cut.count == reply.encoded().count || decoded.flags.truncated, "an answer was cut without TC")
    _ = message.questions.first?.name.host
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 { fuzzDNS(bytes, count) }

FuzzDriver.run { bytes, count in fuzzDNS(bytes, count) }
