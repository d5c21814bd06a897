// SIP over TLS on the TLS module (mbedTLS): the sessions the SIP transport layer asks for
// (`SIPTransportLayer.makeTLSSession`), made from the phone's `security.*` settings.

import Net
import SIP
import TLS

/// Makes the client TLS sessions of SIP connections: one `TLSConfiguration` (trust store, client
/// certificate; it keeps the last session per server for resumption) built at the first TLS
/// connection, and a `TLSConnection` per connection checking the server's certificate against
/// the name the transport gives (RFC 5922: the SIP domain, or the IP literal).
public final class SIPTLSEngine {
    public let settings: SIPTLSSettings
    private var configuration: TLSConfiguration? = nil

    public init(settings: SIPTLSSettings) {
        self.settings = settings
    }

    /// A session for a new connection to `remote` checking `serverName`, or why there is none.
    public func start(_ remote: SIPSocketAddress, serverName: String) -> SIPTLSSessionStart {
        do throws(TLSError) {
            let shared: TLSConfiguration
            if let configuration {
                shared = configuration
            } else {
                shared = try TLSConfiguration(
                    trustFile: settings.trustFile, clientCertificateFile: settings.clientCertificateFile,
                    clientKeyFile: settings.clientKeyFile, verifyPeer: settings.verifiesPeer)
                configuration = shared
            }
            return .session(SIPTLSEngineSession(try TLSConnection(configuration: shared, serverName: serverName)))
        } catch {
            return .failed(error.reason)
        }
    }
}

/// One `TLSConnection` seen through the SIP transport layer's `SIPTLSSession` seam.
final class SIPTLSEngineSession: SIPTLSSession {
    let connection: TLSConnection

    init(_ connection: TLSConnection) {
        self.connection = connection
    }

    func receiveCiphertext(_ bytes: UnsafeRawBufferPointer) { connection.receiveCiphertext(bytes) }

    func advance() -> SIPTLSProgress {
        switch connection.advance() {
        case .handshaking: return .handshaking
        case .established: return .established
        case .failed(let error): return .failed(error.reason)
        case .closed: return .closed
        }
    }

    func takeCiphertext(into output: inout [UInt8]) {
        while connection.pendingCiphertext > 0 {
            let wanted = connection.pendingCiphertext
            let start = output.count
            output.append(contentsOf: repeatElement(0, count: wanted))
            let got = output.withUnsafeMutableBytes { buffer in
                connection.takeCiphertext(into: UnsafeMutableRawBufferPointer(rebasing: buffer[start...]))
            }
            output.removeLast(wanted - got)
            if got == 0 { return }
        }
    }

    func writePlaintext(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { connection.writePlaintext($0) } == bytes.count
    }

    func readPlaintext(into output: inout [UInt8]) {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { connection.readPlaintext(into: $0) }
            if n == 0 { return }
            output.append(contentsOf: chunk[0..<n])
        }
    }

    func close() { connection.close() }
}
