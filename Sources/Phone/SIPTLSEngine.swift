// SIP over TLS on the TLS module (mbedTLS): the sessions the SIP transport layer asks for
// (`SIPTransportLayer.makeTLSSession`), made from the phone's `security.*` settings.

import Net
import SIP
import TLS

/// Makes the client TLS sessions of SIP connections from the phone's `TLSClientProfile` (trust
/// store, client certificate; one `TLSConfiguration`, shared with HTTPS, keeping the last session
/// per server for resumption): a `TLSConnection` per connection checking the server's certificate
/// against the name the transport gives (RFC 5922: the SIP domain, or the IP literal).
public final class SIPTLSEngine {
    public let profile: TLSClientProfile

    public init(profile: TLSClientProfile) {
        self.profile = profile
    }

    /// An engine with a profile of its own made from `settings`.
    public convenience init(settings: SIPTLSSettings) {
        self.init(profile: settings.profile())
    }

    /// A session for a new connection to `remote` checking `serverName`, or why there is none.
    public func start(_ remote: SIPSocketAddress, serverName: String) -> SIPTLSSessionStart {
        do throws(TLSError) {
            return .session(SIPTLSEngineSession(try profile.connection(serverName: serverName)))
        } catch {
            return .failed(error.reason)
        }
    }
}

extension SIPTLSSettings {
    /// The client TLS profile these settings describe (built once in the assembly and shared by
    /// SIP over TLS and HTTPS).
    public func profile() -> TLSClientProfile {
        TLSClientProfile(
            trustFile: trustFile, clientCertificateFile: clientCertificateFile, clientKeyFile: clientKeyFile,
            verifyPeer: verifiesPeer)
    }

    /// Whether `profile` was made from settings equal to these.
    public func describes(_ profile: TLSClientProfile) -> Bool {
        profile.trustFile == trustFile && profile.clientCertificateFile == clientCertificateFile
            && profile.clientKeyFile == clientKeyFile && profile.verifyPeer == verifiesPeer
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
