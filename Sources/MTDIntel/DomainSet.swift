/// A small set of domains from configuration (a policy's content deny list, a cloud service's
/// domains), matched like intelligence: the host or any parent domain.
public struct DomainSet: Sendable {
    private let table: HostKeyTable
    private let names: [String]

    /// `domains` pairs each domain with the name to report when it matches.
    public init(_ domains: [(domain: String, name: String)]) {
        var builder = HostKeyTable.Builder()
        var names: [String] = []
        var index: [String: Int] = [:]
        for (domain, name) in domains {
            let nameIndex = index[name] ?? {
                names.append(name)
                index[name] = names.count - 1
                return names.count - 1
            }()
            builder.insert(domain, IndicatorRef(source: 0, label: nameIndex))
        }
        table = HostKeyTable(builder: builder)
        self.names = names
    }

    public var isEmpty: Bool { table.keyCount == 0 }

    /// The most specific matching domain and its name.
    @inline(__always)
    public func match(_ host: String) -> (domain: String, name: String)? {
        guard table.keyCount > 0 else { return nil }
        var result: (String, String)?
        table.forEachSuffixMatch(host) { key in
            table.forEachRef(ofKey: key) { ref in
                if result == nil { result = (table.key(at: key), names[ref.label]) }
            }
            return false
        }
        return result
    }
}
