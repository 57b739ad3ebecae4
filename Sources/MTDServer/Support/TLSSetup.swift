import AsyncHTTPClient
import Foundation
import NIOSSL
import Vapor

/// HTTPS for the server, from PEM files; and a client that trusts the server's own certificate,
/// for the MTD's calls to the built-in UEM over loopback.
enum TLSSetup {
    static func serverConfiguration(certificatePath: String, keyPath: String) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw ServerStartupError("TLS certificate \(certificatePath) cannot be read as PEM (\(error)); give the certificate chain in PEM form")
        }
        guard !chain.isEmpty else { throw ServerStartupError("TLS certificate \(certificatePath) holds no certificate") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw ServerStartupError("TLS key \(keyPath) cannot be read as a PEM private key (\(error)); an encrypted key is not supported")
        }
        return .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    }

    /// Trusts exactly the server's certificate; the host name is not checked because loopback
    /// addresses are rarely in a certificate's names.
    static func loopbackClient(trusting certificatePath: String) -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(certificatePath)
        tls.certificateVerification = .noHostnameVerification
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
    }

    static func validate(certificatePath: String?, keyPath: String?) throws -> (String, String)? {
        switch (certificatePath, keyPath) {
        case (nil, nil): return nil
        case (let certificate?, let key?): return (certificate, key)
        default: throw ServerStartupError("TLS needs both a certificate (--tls-certificate) and its private key (--tls-key)")
        }
    }
}
