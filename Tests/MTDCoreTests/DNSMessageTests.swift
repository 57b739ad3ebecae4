import MTDCore
import Testing

/// The resolver's DNS codec against messages written by dnspython (a compressed response with
/// CNAME, A, SOA, MX and an unknown type; a query with EDNS and DO), and against malformed input.
@Suite struct DNSMessageTests {
    static func bytes(_ hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return result
    }

    // dnspython 2: make_query("www.Example.com", "A", use_edns=0, want_dnssec=True, payload=1232), id 0x1234.
    static let query = bytes("12340100000100000000000103777777074578616d706c6503636f6d000001000100002904d0000080000000")
    // Its response: CNAME www→web, two A, SOA in authority, MX and TYPE65280 in additional, names compressed.
    static let response = bytes(
        "12348100000100030001000303777777074578616d706c6503636f6d0000010001c00c000500010000012c000603776562c010c02d00010001"
            + "0000003c0004c0000201c02d000100010000003c0004c0000202c0100006000100000e100027036e7331c0100a686f73746d6173746572c01078c425fd"
            + "00001c2000000e10001275000000012cc010000f000100000e100009000a046d61696cc010c010ff00000100000e100003abcdef0000292000000000000000")

    @Test func aQueryFromDnspythonDecodesWithItsEDNSAndDO() throws {
        let message = try DNSMessage(decoding: Self.query)
        #expect(message.id == 0x1234)
        #expect(message.flags.recursionDesired && !message.flags.isResponse)
        #expect(message.questions == [DNSQuestion(name: try #require(DNSName("www.example.com")).withCase(of: "www.Example.com"), type: .a)])
        #expect(message.questions[0].name.host == "www.example.com")
        #expect(message.edns?.udpPayloadSize == 1_232)
        #expect(message.edns?.dnssecOK == true)
        #expect(message.encoded() == Self.query, "a message we did not change is written back byte for byte")
    }

    @Test func theWireScanFindsTheSmallestTTLWithoutDecoding() throws {
        // Answers at 300, 60 and 60 s, the SOA in authority at 3600 s; the additional records do not count.
        #expect(DNSWireScan.minimumTTL(Self.response) == 60)
        let decoded = try DNSMessage(decoding: Self.response)
        #expect(DNSWireScan.minimumTTL(Self.response) == (decoded.answers + decoded.authorities).map(\.ttl).min())
        #expect(DNSWireScan.minimumTTL(Self.query) == nil, "a query has no records")
        for cut in [0, 11, 12, 40, 60, Self.response.count - 60] {
            let prefix = Array(Self.response.prefix(cut))
            #expect(DNSWireScan.minimumTTL(prefix) == nil, "cut at \(cut)")
        }
        var pointerLoop = Self.response
        pointerLoop[12] = 0x80 // a reserved label type
        #expect(DNSWireScan.minimumTTL(pointerLoop) == nil)
    }

    @Test func aCompressedResponseExpandsNamesInsideRDataAndSurvivesARoundTrip() throws {
        let message = try DNSMessage(decoding: Self.response)
        #expect(message.answers.map(\.type) == [.cname, .a, .a])
        #expect(DNSName(wire: message.answers[0].data)?.host == "web.example.com", "the CNAME target is expanded")
        #expect(message.answers[1].name.host == "web.example.com")
        #expect(message.answers[1].data == [192, 0, 2, 1])
        let soa = try #require(message.authorities.first)
        #expect(soa.type == .soa && soa.ttl == 3_600)
        #expect(soa.data.count == (DNSName("ns1.example.com")?.wire.count ?? 0) + (DNSName("hostmaster.example.com")?.wire.count ?? 0) + 20)
        #expect(message.additionals.map(\.type) == [.mx, DNSRecordType(rawValue: 65_280)])
        #expect(message.additionals[1].data == [0xAB, 0xCD, 0xEF], "an unknown type passes through opaquely")
        #expect(message.edns != nil)

        let again = message.encoded()
        #expect(try DNSMessage(decoding: again) == message)
        #expect(again.count <= Self.response.count, "names are compressed again (\(again.count) vs \(Self.response.count) bytes)")
    }

    @Test func anOversizedAnswerIsCutToTheQuestionWithTC() throws {
        var message = try DNSMessage(decoding: Self.query).response(code: .noError)
        let name = try #require(DNSName("big.example.com"))
        message.answers = (0..<60).map { _ in DNSRecord(name: name, type: .txt, ttl: 60, data: [20] + Array(repeating: UInt8(ascii: "x"), count: 20)) }
        let full = message.encoded()
        #expect(full.count > 512)
        let cut = message.encoded(maxSize: 512)
        #expect(cut.count <= 512)
        let decoded = try DNSMessage(decoding: cut)
        #expect(decoded.flags.truncated)
        #expect(decoded.answers.isEmpty && decoded.questions == message.questions)
        #expect(decoded.edns != nil, "EDNS stays, so the client keeps its payload size")
        #expect(try !DNSMessage(decoding: full).flags.truncated)
    }

    @Test func anExtendedErrorAndTheExtendedResponseCodeRoundTrip() throws {
        var message = try DNSMessage(decoding: Self.query).response(code: .nameError)
        message.edns?.options.append(EDNS.extendedError(ExtendedDNSError.filtered, "PHISHING_CONTENT: blocklistproject:phishing"))
        var decoded = try DNSMessage(decoding: message.encoded())
        #expect(decoded.responseCode == .nameError)
        #expect(decoded.edns?.extendedError?.infoCode == 17)
        #expect(decoded.edns?.extendedError?.text == "PHISHING_CONTENT: blocklistproject:phishing")
        decoded.responseCode = .badVersion
        #expect(try DNSMessage(decoding: decoded.encoded()).responseCode == .badVersion)
        #expect(decoded.flags.rcodeLow == 0 && decoded.edns?.extendedRCodeHigh == 1)
    }

    @Test(arguments: [
        ("a pointer to itself", "0000000000010000000000000c000100c00c"),
        ("a pointer forwards", "000000000001000000000000c00e0001000100"),
        ("an extended label type", "000000000001000000000000400000010001"),
        ("a label past the end", "00000000000100000000000005616200010001"),
        ("a header cut short", "000000"),
        ("a missing question", "000000000001000000000000"),
        ("bytes after the message", "00000000000000000000000000"),
        ("RDATA past the end", "000080000000000100000000000001000100000000000401"),
        ("an MX with bytes left over", "00008000000000010000000000000f000100000000000400000000"),
        ("two OPT records", "000000000000000000000002" + "00002904d0000000000000" + "00002904d0000000000000"),
        ("an EDNS option longer than its record", "000000000000000000000001000029ffff0000000000000400000009"),
    ])
    func malformedInputIsAnErrorWithItsReason(_ malformed: (String, String)) {
        #expect(throws: DNSMessageError.self, "\(malformed.0)") { try DNSMessage(decoding: Self.bytes(malformed.1)) }
    }

    @Test func namesOverTheLimitsAreRefused() throws {
        #expect(DNSName(String(repeating: "a", count: 64) + ".com") == nil)
        #expect(DNSName(Array(repeating: "abcdefghi", count: 26).joined(separator: ".")) == nil)
        #expect(DNSName("a..b") == nil)
        #expect(DNSName(".")?.wire == [0])
        #expect(DNSName(wire: [3, 1, 2]) == nil && DNSName(wire: [64] + Array(repeating: 1, count: 64) + [0]) == nil)
        // A chain of pointers each adding a label: expanded past 255 bytes, it is refused.
        var packet: [UInt8] = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
        packet += [63] + Array(repeating: UInt8(ascii: "a"), count: 63) + [0]
        var previous = 12
        for _ in 0..<5 {
            let start = packet.count
            packet += [63] + Array(repeating: UInt8(ascii: "b"), count: 63) + [0xC0 | UInt8(previous >> 8), UInt8(previous & 0xFF)]
            previous = start
        }
        packet += [0xC0 | UInt8(previous >> 8), UInt8(previous & 0xFF), 0, 1, 0, 1]
        #expect(throws: DNSMessageError.self) { try DNSMessage(decoding: packet) }
    }

    @Test func typeNamesAndHostFormsAreReadable() throws {
        #expect(DNSRecordType(name: "aaaa") == .aaaa)
        #expect(DNSRecordType(name: "TYPE65280")?.rawValue == 65_280)
        #expect(DNSRecordType(rawValue: 65_280).description == "TYPE65280")
        #expect(DNSName("WWW.Example.COM.")?.host == "www.example.com")
        #expect(DNSName("we.ird")?.host == "we.ird")
        let odd = try #require(DNSName(wire: [3, UInt8(ascii: "a"), UInt8(ascii: "."), 0x07, 3, UInt8(ascii: "c"), UInt8(ascii: "o"), UInt8(ascii: "m"), 0]))
        #expect(odd.host == "a\\046\\007.com", "a dot or control byte inside a label is escaped, never a label boundary")
    }
}

extension DNSName {
    /// The same labels with the letter case of `text` (the codec keeps a name's case as sent).
    func withCase(of text: String) -> DNSName { DNSName(text) ?? self }
}
