import Foundation
import Testing

/// The built-in UEM describes itself at /API/openapi.json (schemathesis fuzzes it from there), and
/// the document keeps up with the routes: a new route without an entry fails here.
struct UEMOpenAPITests {
    @Test func theDocumentDescribesEveryRoute() async throws {
        let uem = try await UEMServer.start()
        do {
            // Public, like the admin API's document: no tenant code, no credentials.
            let request = try await uem.send(.GET, "/API/openapi.json", user: "", password: "", tenant: "")
            #expect(request.status == 200)
            #expect(request.json["openapi"] as? String == "3.1.0")
            let documented = try #require(request.json["paths"] as? [String: [String: Any]])
            var checked = 0
            var served = Set<String>()
            for route in uem.app.routes.all {
                let components = route.path.map(\.description)
                guard let first = components.first, first == "API" || first == "connect" else { continue }
                // /API/v1/… is the same API under Workspace ONE's older URL versioning.
                if components.count > 1, components[1] == "v1" { continue }
                // The catch-all answers every other path with a 404 (UEMFidelityTests); it is not an operation.
                if components.last == "**" { continue }
                let path = "/" + components.map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : $0 }.joined(separator: "/")
                #expect(documented[path]?[route.method.rawValue.lowercased()] != nil, "\(route.method.rawValue) \(path) is missing from the UEM's openapi.json")
                served.insert("\(route.method.rawValue.lowercased()) \(path.lowercased())")
                checked += 1
            }
            #expect(checked > 40)
            // And nothing is documented that the server does not serve.
            for (path, operations) in documented {
                for method in operations.keys where ["get", "post", "put", "delete", "patch"].contains(method) {
                    #expect(served.contains("\(method) \(path.lowercased())"), "\(method.uppercased()) \(path) is documented but not served")
                }
            }
        } catch {
            try? await uem.stop()
            throw error
        }
        try await uem.stop()
    }
}
