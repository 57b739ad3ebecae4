/// A DNS message (RFC 1035 §4), decoded from and encoded to wire form. EDNS(0) is lifted out of
/// the additional section into `edns`. Any record type passes through; names inside the RDATA of
/// the types that may hold compressed names are expanded on decode and compressed again on encode
/// only where RFC 3597 §4 allows it.
public struct DNSMessage: Sendable, Hashable {
    public var id: UInt16
    public var flags: DNSFlags
    public var questions: [DNSQuestion]
    public var answers: [DNSRecord]
    public var authorities: [DNSRecord]
    /// The additional section without the OPT record.
    public var additionals: [DNSRecord]
    public var edns: EDNS?

    public init(id: UInt16, flags: DNSFlags, questions: [DNSQuestion] = [], answers: [DNSRecord] = [], authorities: [DNSRecord] = [],
                additionals: [DNSRecord] = [], edns: EDNS? = nil) {
        self.id = id
        self.flags = flags
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
        self.edns = edns
    }

    /// A recursive query for one name, as a stub resolver sends it.
    public static func query(id: UInt16, name: DNSName, type: DNSRecordType, edns: EDNS? = EDNS()) -> DNSMessage {
        var flags = DNSFlags(rawValue: 0)
        flags.recursionDesired = true
        return DNSMessage(id: id, flags: flags, questions: [DNSQuestion(name: name, type: type)], edns: edns)
    }

    /// The full response code: the header's four bits and, with EDNS, its upper eight.
    public var responseCode: DNSResponseCode {
        get { DNSResponseCode(rawValue: UInt16(edns?.extendedRCodeHigh ?? 0) << 4 | UInt16(flags.rcodeLow)) }
        set {
            flags.rcodeLow = UInt8(newValue.rawValue & 0xF)
            if edns != nil { edns?.extendedRCodeHigh = UInt8(truncatingIfNeeded: newValue.rawValue >> 4) }
        }
    }

    /// A response to this query: same id, opcode, RD and CD, the question echoed, no records.
    public func response(code: DNSResponseCode) -> DNSMessage {
        var flags = DNSFlags(rawValue: self.flags.rawValue & 0x7910) // opcode, RD, CD
        flags.isResponse = true
        flags.recursionAvailable = true
        var reply = DNSMessage(id: id, flags: flags, questions: questions, edns: edns.map { EDNS(udpPayloadSize: 1_232, dnssecOK: $0.dnssecOK) })
        reply.responseCode = code
        return reply
    }

    // MARK: Decoding

    /// Decodes a whole message. Any malformed input is a `DNSMessageError`: a truncated field, a
    /// compression pointer that does not point backwards, a name over 255 bytes, RDATA that does
    /// not match its type's layout, trailing bytes, or more than one OPT record.
    public init(decoding bytes: some Collection<UInt8>) throws(DNSMessageError) {
        var reader = DNSReader(Array(bytes))
        id = try reader.u16()
        flags = DNSFlags(rawValue: try reader.u16())
        let counts = (try reader.u16(), try reader.u16(), try reader.u16(), try reader.u16())
        var questions: [DNSQuestion] = []
        // Counts come from the input: each entry needs at least 5 (question) or 11 (record) bytes,
        // so reserving is bounded by what is really there.
        questions.reserveCapacity(min(Int(counts.0), reader.remaining / 5))
        for _ in 0..<counts.0 {
            questions.append(DNSQuestion(name: try reader.name(), type: DNSRecordType(rawValue: try reader.u16()), recordClass: try reader.u16()))
        }
        self.questions = questions
        answers = try reader.records(Int(counts.1))
        authorities = try reader.records(Int(counts.2))
        var additionals: [DNSRecord] = []
        var edns: EDNS?
        for record in try reader.records(Int(counts.3)) {
            guard record.type == .opt else {
                additionals.append(record)
                continue
            }
            guard edns == nil else { throw DNSMessageError("more than one OPT record", offset: reader.offset) }
            guard record.name == .root else { throw DNSMessageError("the OPT record's owner is not the root", offset: reader.offset) }
            edns = try EDNS(record: record)
        }
        self.additionals = additionals
        self.edns = edns
        guard reader.remaining == 0 else { throw DNSMessageError("\(reader.remaining) bytes after the last record", offset: reader.offset) }
    }

    // MARK: Encoding

    /// Wire form. When it would exceed `maxSize` (a UDP client's payload size), the answer is cut
    /// to the header, the question and EDNS with TC set, so the client retries over TCP (RFC 7766).
    public func encoded(maxSize: Int = 65_535) -> [UInt8] {
        var writer = DNSWriter()
        write(to: &writer, sections: true)
        if writer.bytes.count <= maxSize { return writer.bytes }
        var cut = DNSWriter()
        var truncated = self
        truncated.flags.truncated = true
        truncated.write(to: &cut, sections: false)
        return cut.bytes
    }

    func write(to writer: inout DNSWriter, sections: Bool) {
        writer.u16(id)
        writer.u16(flags.rawValue)
        writer.u16(UInt16(clamping: questions.count))
        let answers = sections ? self.answers : [], authorities = sections ? self.authorities : [], additionals = sections ? self.additionals : []
        writer.u16(UInt16(clamping: answers.count))
        writer.u16(UInt16(clamping: authorities.count))
        writer.u16(UInt16(clamping: additionals.count + (edns == nil ? 0 : 1)))
        for question in questions.prefix(Int(UInt16.max)) {
            writer.name(question.name, compress: true)
            writer.u16(question.type.rawValue)
            writer.u16(question.recordClass)
        }
        for record in answers.prefix(Int(UInt16.max)) { writer.record(record) }
        for record in authorities.prefix(Int(UInt16.max)) { writer.record(record) }
        for record in additionals.prefix(Int(UInt16.max) - 1) { writer.record(record) }
        if let edns { writer.record(edns.record) }
    }
}

/// Why bytes are not a DNS message.
public struct DNSMessageError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var offset: Int

    public init(_ message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { "malformed DNS message at byte \(offset): \(message)" }
}

extension EDNS {
    init(record: DNSRecord) throws(DNSMessageError) {
        udpPayloadSize = record.recordClass
        extendedRCodeHigh = UInt8(record.ttl >> 24)
        version = UInt8((record.ttl >> 16) & 0xFF)
        dnssecOK = record.ttl & 0x8000 != 0
        otherFlags = UInt16(record.ttl & 0x7FFF)
        var options: [Option] = []
        var index = 0
        let data = record.data
        while index < data.count {
            guard data.count - index >= 4 else { throw DNSMessageError("an EDNS option header is cut short", offset: index) }
            let code = UInt16(data[index]) << 8 | UInt16(data[index + 1])
            let length = Int(data[index + 2]) << 8 | Int(data[index + 3])
            guard data.count - index - 4 >= length else { throw DNSMessageError("EDNS option \(code) is longer than the OPT record", offset: index) }
            options.append(Option(code: code, data: Array(data[(index + 4)..<(index + 4 + length)])))
            index += 4 + length
        }
        self.options = options
    }

    var record: DNSRecord {
        var data: [UInt8] = []
        for option in options {
            let length = min(option.data.count, Int(UInt16.max))
            data += [UInt8(option.code >> 8), UInt8(option.code & 0xFF), UInt8(length >> 8), UInt8(length & 0xFF)]
            data += option.data.prefix(length)
        }
        let ttl = UInt32(extendedRCodeHigh) << 24 | UInt32(version) << 16 | (dnssecOK ? 0x8000 : 0) | UInt32(otherFlags & 0x7FFF)
        return DNSRecord(name: .root, type: .opt, recordClass: udpPayloadSize, ttl: ttl, data: data)
    }
}
