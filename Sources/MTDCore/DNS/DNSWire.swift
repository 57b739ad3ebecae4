/// The RDATA fields of the record types that carry domain names (RFC 1035 and RFC 3597 §4).
enum RDataField {
    case name, fixed(Int), characterString
}

enum RDataLayout {
    /// Types whose names are expanded on decode. Only RFC 1035's own types are compressed again
    /// on encode (`compressible`); the later ones are written in full, as RFC 3597 §4 requires.
    static func fields(_ type: UInt16) -> [RDataField]? {
        switch type {
        case 2, 3, 4, 5, 7, 8, 9, 12, 39: [.name] // NS MD MF CNAME MB MG MR PTR DNAME
        case 6: [.name, .name, .fixed(20)] // SOA
        case 14, 17: [.name, .name] // MINFO RP
        case 15, 18, 21, 36: [.fixed(2), .name] // MX AFSDB RT KX
        case 26: [.fixed(2), .name, .name] // PX
        case 33: [.fixed(6), .name] // SRV
        case 35: [.fixed(4), .characterString, .characterString, .characterString, .name] // NAPTR
        default: nil
        }
    }

    static func compressible(_ type: UInt16) -> Bool {
        switch type {
        case 2, 3, 4, 5, 6, 7, 8, 9, 12, 14, 15: true
        default: false
        }
    }
}

/// Reads wire form with bounds on every step.
struct DNSReader {
    let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var remaining: Int { bytes.count - offset }

    /// Moves on by up to `count` bytes (never past the end).
    mutating func skip(_ count: Int) {
        offset += min(max(0, count), remaining)
    }

    mutating func u8() throws(DNSMessageError) -> UInt8 {
        guard offset < bytes.count else { throw DNSMessageError("the message ends early", offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws(DNSMessageError) -> UInt16 {
        guard remaining >= 2 else { throw DNSMessageError("the message ends early", offset: offset) }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func u32() throws(DNSMessageError) -> UInt32 {
        guard remaining >= 4 else { throw DNSMessageError("the message ends early", offset: offset) }
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    /// A possibly compressed name. A pointer must point before itself, so following pointers
    /// always ends; the expanded name is at most 255 bytes.
    mutating func name() throws(DNSMessageError) -> DNSName {
        var wire: [UInt8] = []
        var position = offset
        var jumped = false
        while true {
            guard position < bytes.count else { throw DNSMessageError("a name runs past the end", offset: position) }
            let length = bytes[position]
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    wire.append(0)
                    if !jumped { offset = position + 1 }
                    return DNSName(trustedWire: wire)
                }
                let count = Int(length)
                guard bytes.count - position - 1 >= count else { throw DNSMessageError("a label runs past the end", offset: position) }
                guard wire.count + 1 + count + 1 <= DNSName.maxWireLength else { throw DNSMessageError("a name is longer than 255 bytes", offset: position) }
                wire.append(length)
                wire.append(contentsOf: bytes[(position + 1)...(position + count)])
                position += 1 + count
            case 0xC0:
                guard bytes.count - position >= 2 else { throw DNSMessageError("a compression pointer is cut short", offset: position) }
                let target = Int(length & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < position else { throw DNSMessageError("a compression pointer does not point backwards", offset: position) }
                if !jumped { offset = position + 2 }
                jumped = true
                position = target
            default:
                throw DNSMessageError("label type \(length >> 6) is not supported", offset: position)
            }
        }
    }

    mutating func records(_ count: Int) throws(DNSMessageError) -> [DNSRecord] {
        var records: [DNSRecord] = []
        records.reserveCapacity(min(count, remaining / 11))
        for _ in 0..<count { records.append(try record()) }
        return records
    }

    mutating func record() throws(DNSMessageError) -> DNSRecord {
        let name = try name()
        let type = try u16(), recordClass = try u16(), ttl = try u32()
        let length = Int(try u16())
        guard remaining >= length else { throw DNSMessageError("RDATA of \(DNSRecordType(rawValue: type)) runs past the end", offset: offset) }
        let end = offset + length
        guard let fields = RDataLayout.fields(type) else {
            defer { offset = end }
            return DNSRecord(name: name, type: DNSRecordType(rawValue: type), recordClass: recordClass, ttl: ttl, data: Array(bytes[offset..<end]))
        }
        var data: [UInt8] = []
        for field in fields {
            switch field {
            case .name:
                data += try self.name().wire
            case .fixed(let size):
                guard end - offset >= size else { throw DNSMessageError("RDATA of \(DNSRecordType(rawValue: type)) is too short", offset: offset) }
                data += bytes[offset..<(offset + size)]
                offset += size
            case .characterString:
                guard offset < end else { throw DNSMessageError("RDATA of \(DNSRecordType(rawValue: type)) is too short", offset: offset) }
                let size = Int(bytes[offset])
                guard end - offset - 1 >= size else { throw DNSMessageError("a character string runs past its RDATA", offset: offset) }
                data += bytes[offset...(offset + size)]
                offset += 1 + size
            }
            guard offset <= end else { throw DNSMessageError("RDATA of \(DNSRecordType(rawValue: type)) runs past its length", offset: offset) }
        }
        guard offset == end else { throw DNSMessageError("RDATA of \(DNSRecordType(rawValue: type)) has \(end - offset) bytes too many", offset: offset) }
        return DNSRecord(name: name, type: DNSRecordType(rawValue: type), recordClass: recordClass, ttl: ttl, data: data)
    }
}

/// Writes wire form, compressing names against those already written.
struct DNSWriter {
    var bytes: [UInt8] = []
    /// Suffixes (uncompressed wire form, case as written) and where each was written. Matching keeps
    /// case so that every name reads back exactly as given (a client's 0x20 case randomisation
    /// survives). Most messages hold few names, so the first suffixes are searched linearly (cheaper
    /// than hashing); beyond that a dictionary keeps a big answer linear in its size.
    private var written: [(suffix: ArraySlice<UInt8>, offset: Int)] = []
    private var writtenMore: [ArraySlice<UInt8>: Int] = [:]
    private static let linearSuffixes = 16

    private func offset(of suffix: ArraySlice<UInt8>) -> Int? {
        written.first(where: { $0.suffix == suffix })?.offset ?? (writtenMore.isEmpty ? nil : writtenMore[suffix])
    }

    init() {
        bytes.reserveCapacity(512)
    }

    mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xFF))
    }

    mutating func u32(_ value: UInt32) {
        u16(UInt16(value >> 16))
        u16(UInt16(value & 0xFFFF))
    }

    mutating func name(_ name: DNSName, compress: Bool) {
        let wire = name.wire
        var index = 0
        while index < wire.count, wire[index] != 0 {
            let suffix = wire[index...]
            let known = offset(of: suffix)
            if compress, let known {
                u16(0xC000 | UInt16(known))
                return
            }
            // Pointers reach 14 bits: a suffix written later than that cannot be pointed at. The
            // first place a suffix was written stays its target, as with the dictionary before.
            if bytes.count < 0x4000, known == nil {
                if written.count < Self.linearSuffixes { written.append((suffix, bytes.count)) } else { writtenMore[suffix] = bytes.count }
            }
            let length = Int(wire[index])
            bytes.append(contentsOf: wire[index...(index + length)])
            index += 1 + length
        }
        bytes.append(0)
    }

    mutating func record(_ record: DNSRecord) {
        name(record.name, compress: true)
        u16(record.type.rawValue)
        u16(record.recordClass)
        u32(record.ttl)
        let lengthAt = bytes.count
        u16(0)
        if let fields = RDataLayout.fields(record.type.rawValue) {
            rdata(record.data, fields: fields, compress: RDataLayout.compressible(record.type.rawValue))
        } else {
            bytes.append(contentsOf: record.data.prefix(Int(UInt16.max)))
        }
        let length = UInt16(clamping: bytes.count - lengthAt - 2)
        bytes[lengthAt] = UInt8(length >> 8)
        bytes[lengthAt + 1] = UInt8(length & 0xFF)
    }

    /// RDATA that came from `DNSReader` (names already expanded); anything that does not fit the
    /// layout (a record built by hand) is written as it is.
    private mutating func rdata(_ data: [UInt8], fields: [RDataField], compress: Bool) {
        var reader = DNSReader(data)
        var pieces: [(name: DNSName?, raw: ArraySlice<UInt8>)] = []
        for field in fields {
            let start = reader.offset
            switch field {
            case .name:
                guard let name = try? reader.name() else { return bytes.append(contentsOf: data) }
                pieces.append((name, []))
            case .fixed(let size):
                guard reader.remaining >= size else { return bytes.append(contentsOf: data) }
                pieces.append((nil, data[start..<(start + size)]))
                reader.skip(size)
            case .characterString:
                guard let size = try? reader.u8(), reader.remaining >= Int(size) else { return bytes.append(contentsOf: data) }
                pieces.append((nil, data[start...(start + Int(size))]))
                reader.skip(Int(size))
            }
        }
        guard reader.remaining == 0 else { return bytes.append(contentsOf: data) }
        for piece in pieces {
            if let name = piece.name { self.name(name, compress: compress) } else { bytes.append(contentsOf: piece.raw) }
        }
    }
}
