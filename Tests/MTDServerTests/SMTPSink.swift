import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import TestSupport
import Testing

/// A real SMTP server (aiosmtpd, `Tests/Tools/smtp-sink.py`) on loopback: STARTTLS with a fresh
/// self-signed certificate for `localhost`, one account, AUTH required. Each accepted message
/// arrives as the JSON line the script prints (decoded by Python's e-mail parser).
final class SMTPSink: Sendable {
    struct Message: Sendable {
        var from: String
        var to: [String]
        var subject: String
        var text: String
        var headers: [String: String]
        var tls: Bool
        var authenticated: Bool
    }

    static let user = "openmtd-relay"
    static let password = "relay-password-123"

    let port: Int
    let certificatePEM: String
    private let process: Process
    private let received: NIOLockedValueBox<[Message]>

    private init(port: Int, certificatePEM: String, process: Process, received: NIOLockedValueBox<[Message]>) {
        self.port = port
        self.certificatePEM = certificatePEM
        self.process = process
        self.received = received
    }

    static func start(failFirst: Int = 0) async throws -> SMTPSink {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import aiosmtpd"]
        probe.standardError = FileHandle.nullDevice
        try probe.run()
        probe.waitUntilExit()
        if probe.terminationStatus != 0 { try Prerequisite.missing("the PyPI package aiosmtpd (pip install aiosmtpd)") }

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("openmtd-smtp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let certificate = folder.appendingPathComponent("cert.pem").path, key = folder.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "2",
                             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0, "openssl could not make a test certificate")

        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tools/smtp-sink.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--cert", certificate, "--key", key, "--user", user, "--password", password, "--fail-first", String(failFirst)]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let received = NIOLockedValueBox<[Message]>([])
        let ready = NIOLockedValueBox<(port: Int?, partial: String)>((nil, ""))
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            // End of file: without this the handler is called again at once, forever.
            if data.isEmpty {
                handle.readabilityHandler = nil
                return
            }
            let chunk = String(decoding: data, as: UTF8.self)
            let lines: [String] = ready.withLockedValue { state in
                state.partial += chunk
                var parts = state.partial.components(separatedBy: "\n")
                state.partial = parts.removeLast()
                return parts
            }
            for line in lines {
                if line.hasPrefix("READY "), let port = Int(line.dropFirst(6)) {
                    ready.withLockedValue { $0.port = port }
                } else if let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] {
                    let message = Message(
                        from: object["from"] as? String ?? "", to: object["to"] as? [String] ?? [], subject: object["subject"] as? String ?? "",
                        text: object["text"] as? String ?? "", headers: object["headers"] as? [String: String] ?? [:],
                        tls: object["tls"] as? Bool ?? false, authenticated: object["authenticated"] as? Bool ?? false)
                    received.withLockedValue { $0.append(message) }
                }
            }
        }
        try process.run()
        let started = try await Wait.until(within: 20) { ready.withLockedValue { $0.port } != nil }
        guard started != nil, let port = ready.withLockedValue({ $0.port }) else {
            process.terminate()
            throw SMTPSinkFailure(description: "the SMTP sink did not start")
        }
        return SMTPSink(port: port, certificatePEM: try String(contentsOfFile: certificate, encoding: .utf8), process: process, received: received)
    }

    var messages: [Message] { received.withLockedValue { $0 } }

    /// The relay settings that reach this sink.
    func settings(password: String = SMTPSink.password, security: String = "STARTTLS") -> [String: Any] {
        ["host": "localhost", "port": port, "security": security, "username": Self.user, "password": password,
         "from": "mtd@example.com", "trustedCertificatesPEM": certificatePEM, "timeoutSeconds": 10]
    }

    /// SIGKILL: a child of the test process may inherit a signal mask that blocks SIGTERM.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

struct SMTPSinkFailure: Error, CustomStringConvertible {
    var description: String
}
