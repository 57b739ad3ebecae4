import Foundation

/// Named cloud services and the domains they use, so that a policy can say "no Dropbox" and activity
/// to any Dropbox host is recognised.
public struct CloudServiceCatalog: Sendable {
    public struct Service: Sendable, Codable, Equatable {
        public var name: String
        public var category: String
        public var domains: [String]

        public init(name: String, category: String, domains: [String]) {
            self.name = name
            self.category = category
            self.domains = domains
        }
    }

    public let services: [Service]
    private let byName: [String: Service]

    public init(services: [Service]) {
        self.services = services
        var byName: [String: Service] = [:]
        for service in services { byName[service.name.lowercased()] = service }
        self.byName = byName
    }

    public init(json data: Data, file: String) throws(IntelligenceError) {
        do {
            self.init(services: try JSONDecoder().decode([Service].self, from: data))
        } catch {
            throw IntelligenceError(file: file, message: DocumentErrorText.describe(error))
        }
    }

    public func service(named name: String) -> Service? { byName[name.lowercased()] }

    /// The service a host belongs to (the host or a parent domain is one of its domains).
    public func service(forHost host: String) -> Service? {
        let lowered = host.lowercased()
        for service in services {
            for domain in service.domains where lowered == domain || lowered.hasSuffix("." + domain) {
                return service
            }
        }
        return nil
    }
}
