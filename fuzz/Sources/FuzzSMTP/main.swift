import Foundation
import FuzzSupport
import MTDCore

/// Any bytes as what an SMTP relay sends, fed in chunks the input's first byte chooses: the parser
/// yields replies or an SMTPProtocolError, never a trap, and never holds more than its bounds. The
/// same bytes as a subject, a body and an address: a rendered message keeps its header block
/// (no CR or LF from the input starts a header) and its dot-stuffed DATA ends exactly once.
func fuzzSMTP(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let data = FuzzDriver.data(bytes, count)
    let input = [UInt8](data)
    let chunk = max(1, Int(input.first ?? 1))
    var parser = SMTPReplyParser()
    var start = 0
    feeding: while start < input.count {
        let end = min(input.count, start + chunk)
        do {
            for reply in try parser.feed(input[start..<end]) {
                precondition((200..<600).contains(reply.code), "a reply code outside 2xx–5xx was accepted")
                precondition(reply.lines.count <= SMTPReplyParser.maxLines)
            }
        } catch {
            break feeding
        }
        start = end
    }

    let text = String(decoding: input, as: UTF8.self)
    _ = MailMessage.isAddress(text)
    let message = MailMessage(from: "mtd@example.com", to: ["soc@example.com"], subject: text, body: text, idempotencyKey: text)
    let rendered = message.rendered(at: Date(timeIntervalSince1970: 1_800_000_000), domain: "example.com")
    guard let split = rendered.range(of: "\r\n\r\n") else { fatalError("a rendered message has no header block") }
    let headers = rendered[..<split.lowerBound].components(separatedBy: "\r\n")
    precondition(headers.count == 10, "the input added or removed a header line: \(headers.count)")
    let stuffed = MailMessage.dotStuffed(rendered)
    precondition(stuffed.hasSuffix("\r\n.\r\n"))
    precondition(!stuffed.dropLast(3).contains("\r\n.\r\n"), "the input ended DATA early")
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 { fuzzSMTP(bytes, count) }

FuzzDriver.run { bytes, count in fuzzSMTP(bytes, count) }
