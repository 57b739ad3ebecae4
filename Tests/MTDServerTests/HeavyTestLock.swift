import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The few tests that load the machine (a thousand simulated devices, a thousand-device tag sync,
/// a browser) take turns through a file lock shared by all test targets, so that each measures its
/// own work rather than its neighbours'. (The same helper exists in BuiltinUEMTests.)
enum HeavyTestLock {
    static func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        let descriptor = open("/tmp/openmtd-heavy-tests.lock", O_CREAT | O_RDWR, 0o644)
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 { try await Task.sleep(nanoseconds: 100_000_000) }
        defer { flock(descriptor, LOCK_UN) }
        return try await body()
    }
}
