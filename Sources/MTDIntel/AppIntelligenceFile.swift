import Foundation
import MTDCore

/// OpenMTD's importable app intelligence: rows that tie an app id, a signing certificate or a package
/// hash to a classification (ADWARE, TROJAN, …). CSV header: `classification,id,signer,sha256,label`;
/// JSON: `{"apps":[{"classification":"TROJAN","id":"com.example","signer":"AB:CD:…","sha256":"…","label":"Family"}]}`.
struct AppIntelligenceFile {
    struct Row: Codable {
        var classification: ThreatClassification
        var id: String?
        var signer: String?
        var sha256: String?
        var label: String?
    }

    private struct Document: Codable {
        var apps: [Row]
    }

    var rows: [Row]

    init(json data: Data, file: String) throws(IntelligenceError) {
        do {
            rows = try JSONDecoder().decode(Document.self, from: data).apps
        } catch {
            throw IntelligenceError(file: file, message: DocumentErrorText.describe(error))
        }
        for (index, row) in rows.enumerated() {
            try Self.validate(row, file: file, location: "$.apps[\(index)]")
        }
    }

    init(csv text: String, file: String) throws(IntelligenceError) {
        var lines = CSV.rows(text).makeIterator()
        guard let header = lines.next()?.map({ $0.lowercased() }) else {
            throw IntelligenceError(file: file, message: "empty file; expected the header classification,id,signer,sha256,label")
        }
        guard let classificationColumn = header.firstIndex(of: "classification") else {
            throw IntelligenceError(file: file, message: "line 1: the header needs a classification column (classification,id,signer,sha256,label)")
        }
        func column(_ name: String) -> Int? { header.firstIndex(of: name) }
        let idColumn = column("id"), signerColumn = column("signer"), hashColumn = column("sha256"), labelColumn = column("label")
        var rows: [Row] = []
        var lineNumber = 1
        while let fields = lines.next() {
            lineNumber += 1
            if fields.allSatisfy(\.isEmpty) { continue }
            func field(_ index: Int?) -> String? {
                guard let index, index < fields.count, !fields[index].isEmpty else { return nil }
                return fields[index]
            }
            let rawClassification = field(classificationColumn) ?? ""
            guard let classification = ThreatClassification(rawValue: rawClassification.uppercased()) else {
                let hint = Suggestion.closest(to: rawClassification, in: ThreatClassification.allCases.map(\.rawValue)).map { " (did you mean \($0)?)" } ?? ""
                throw IntelligenceError(file: file, message: "line \(lineNumber), column classification: unknown classification \"\(rawClassification)\"\(hint)")
            }
            let row = Row(classification: classification, id: field(idColumn), signer: field(signerColumn), sha256: field(hashColumn), label: field(labelColumn))
            try Self.validate(row, file: file, location: "line \(lineNumber)")
            rows.append(row)
        }
        self.rows = rows
    }

    private static func validate(_ row: Row, file: String, location: String) throws(IntelligenceError) {
        if row.id == nil, row.signer == nil, row.sha256 == nil {
            throw IntelligenceError(file: file, message: "\(location): give at least one of id, signer, sha256")
        }
        if let signer = row.signer, HexDigest(signer) == nil {
            throw IntelligenceError(file: file, message: "\(location), signer: expected a SHA-1 or SHA-256 hex fingerprint, got \"\(signer)\"")
        }
        if let hash = row.sha256, HexDigest(hash)?.kind != .sha256 {
            throw IntelligenceError(file: file, message: "\(location), sha256: expected 64 hex digits, got \"\(hash)\"")
        }
    }
}

/// Minimal RFC 4180 reader: quoted fields, doubled quotes, CRLF.
enum CSV {
    static func rows(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var inQuotes = false
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let scalar = pending {
                pending = nil
                return scalar
            }
            return iterator.next()
        }
        while let scalar = next() {
            if inQuotes {
                if scalar == "\"" {
                    let following = next()
                    if following == "\"" {
                        field.unicodeScalars.append("\"")
                    } else {
                        inQuotes = false
                        pending = following
                    }
                } else {
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"": inQuotes = true
            case ",":
                row.append(field)
                field = ""
            case "\n":
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            case "\r": continue
            default: field.unicodeScalars.append(scalar)
            }
        }
        if !field.isEmpty || !row.isEmpty {
            row.append(field)
            rows.append(row)
        }
        return rows
    }
}
