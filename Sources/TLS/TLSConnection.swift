import CMbedTLS

/// Where a TLS connection stands after `advance()`.
public enum TLSProgress: Equatable, Sendable {
    /// The handshake needs more bytes from the peer (send `pendingCiphertext` first).
    case handshaking
    /// Application data flows both ways.
    case established
    /// The connection is dead for the given reason; flush `pendingCiphertext` (it may hold the
    /// alert) and close the socket.
    case failed(TLSError)
    /// The peer sent close_notify, or `close()` was called.
    case closed
}

/// One TLS 1.2 connection on mbedTLS, sans-IO: ciphertext from the socket goes in through
/// `receiveCiphertext`, `advance()` runs the handshake and decrypts, ciphertext to send comes
/// out of `takeCiphertext`, and plaintext goes through `writePlaintext` / `readPlaintext`.
/// mbedTLS sees only in-memory BIO callbacks; the caller owns the socket and the timers.
public final class TLSConnection {
    /// The host name (SNI and identity) or IP literal the client wants; empty for a server.
    public let serverName: String
    /// Whether this handshake resumed an earlier session (no certificate exchange).
    public private(set) var isResumed = false
    /// The state after the last `advance()`.
    public private(set) var progress: TLSProgress = .handshaking

    let configuration: TLSConfiguration
    let ssl = UnsafeMutablePointer<mbedtls_ssl_context>.allocate(capacity: 1)
    /// Ciphertext received and not yet consumed by mbedTLS.
    var incoming = ByteQueue()
    /// Ciphertext mbedTLS produced, not yet taken.
    var outgoing = ByteQueue()
    /// Decrypted application data not yet read.
    var plaintext = ByteQueue()
    /// Application data written before the handshake finished.
    var queuedPlaintext: [UInt8] = []
    /// What certificate verification saw (all depths), for the failure's reason.
    var verifyFlags: UInt32 = 0
    var peerSelfIssued = false
    var identityMismatch = false
    var offeredSession = false

    /// The most ciphertext or plaintext held in any one buffer before input is refused.
    static let bufferLimit = 1 << 20

    /// A client connection to `serverName`: a host name (sent as SNI, checked against the
    /// certificate per RFC 5922) or an IP literal (checked against iPAddress entries only).
    public convenience init(configuration: TLSConfiguration, serverName: String) throws(TLSError) {
        if configuration.isServer { throw .setupFailed("a server configuration cannot make client connections") }
        try self.init(configuration, serverName: serverName)
    }

    /// A server connection (tests and local peers): answers one client's handshake.
    public convenience init(serverConfiguration: TLSConfiguration) throws(TLSError) {
        if !serverConfiguration.isServer { throw .setupFailed("a client configuration cannot serve") }
        try self.init(serverConfiguration, serverName: "")
    }

    init(_ configuration: TLSConfiguration, serverName: String) throws(TLSError) {
        self.configuration = configuration
        self.serverName = serverName
        mbedtls_ssl_init(ssl)
        let status = mbedtls_ssl_setup(ssl, configuration.config)
        if status != 0 { throw .setupFailed("session: " + TLSError.message(status)) }
        let context = Unmanaged.passUnretained(self).toOpaque()
        mbedtls_ssl_set_bio(ssl, context, tlsSend, tlsReceive, nil)
        if configuration.isServer { return }
        // SNI carries host names only (RFC 6066 §3); the identity check is ours, for both.
        if !ServerIdentity.isIPLiteral(serverName) && mbedtls_ssl_set_hostname(ssl, serverName) != 0 {
            throw .setupFailed("server name '" + serverName + "' refused")
        }
        if configuration.verifyPeer { mbedtls_ssl_set_verify(ssl, tlsVerify, context) }
        if let session = configuration.savedSession(for: serverName), mbedtls_ssl_set_session(ssl, session) == 0 {
            offeredSession = true
        }
    }

    deinit {
        mbedtls_ssl_free(ssl)
        ssl.deallocate()
    }

    // MARK: bytes in and out

    /// Ciphertext read from the socket. Call `advance()` afterwards. Ignored once failed or
    /// closed (nothing more is decrypted then).
    public func receiveCiphertext(_ bytes: UnsafeRawBufferPointer) {
        switch progress {
        case .failed, .closed: return
        case .handshaking, .established: break
        }
        incoming.append(bytes)
    }

    /// Ciphertext bytes waiting to be sent to the socket.
    public var pendingCiphertext: Int { outgoing.count }

    /// Moves up to `buffer.count` pending ciphertext bytes into `buffer`; returns how many.
    public func takeCiphertext(into buffer: UnsafeMutableRawBufferPointer) -> Int { outgoing.take(into: buffer) }

    /// Queues application data; it is encrypted at once when established, else after the
    /// handshake. Returns the count accepted (0 once failed or closed, or past the buffer limit).
    public func writePlaintext(_ bytes: UnsafeRawBufferPointer) -> Int {
        switch progress {
        case .failed, .closed: return 0
        case .handshaking, .established: break
        }
        let n = Swift.min(bytes.count, TLSConnection.bufferLimit - queuedPlaintext.count)
        if n <= 0 { return 0 }
        queuedPlaintext.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<n]))
        if progress == .established { flushPlaintext() }
        return n
    }

    /// Moves up to `buffer.count` decrypted bytes into `buffer`; returns how many (0 when none).
    public func readPlaintext(into buffer: UnsafeMutableRawBufferPointer) -> Int { plaintext.take(into: buffer) }

    /// Sends close_notify (as pending ciphertext) and ends the connection.
    public func close() {
        switch progress {
        case .established, .handshaking:
            _ = mbedtls_ssl_close_notify(ssl)
            progress = .closed
        case .failed, .closed: break
        }
    }

    // MARK: the engine

    /// Runs the handshake as far as the received bytes allow, then encrypts queued data and
    /// decrypts every complete record. Never blocks.
    @discardableResult
    public func advance() -> TLSProgress {
        if progress == .handshaking { handshake() }
        if progress == .established {
            flushPlaintext()
            readRecords()
        }
        return progress
    }

    func handshake() {
        while deskphone_tls_state(ssl) != Int32(MBEDTLS_SSL_HANDSHAKE_OVER.rawValue) {
            let resumes = deskphone_tls_handshake_resumes(ssl)
            if resumes >= 0 { isResumed = resumes == 1 }
            let status = mbedtls_ssl_handshake_step(ssl)
            if status == MBEDTLS_ERR_SSL_WANT_READ || status == MBEDTLS_ERR_SSL_WANT_WRITE { return }
            if status != 0 {
                if status == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE {
                    // mbedTLS 2.28 ends the handshake without telling the client why.
                    _ = mbedtls_ssl_send_alert_message(
                        ssl, UInt8(MBEDTLS_SSL_ALERT_LEVEL_FATAL), UInt8(MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE))
                }
                fail(handshakeError(status))
                if offeredSession { configuration.forgetSession(for: serverName) }
                return
            }
        }
        progress = .established
        if !configuration.isServer { configuration.saveSession(of: ssl, serverName: serverName) }
    }

    func flushPlaintext() {
        var sent = 0
        while sent < queuedPlaintext.count {
            let status = queuedPlaintext.withUnsafeBufferPointer {
                mbedtls_ssl_write(ssl, $0.baseAddress! + sent, $0.count - sent)
            }
            if status == MBEDTLS_ERR_SSL_WANT_WRITE || status == MBEDTLS_ERR_SSL_WANT_READ { break }
            if status < 0 {
                fail(.failed(code: status, message: TLSError.message(status)))
                return
            }
            sent += Int(status)
        }
        queuedPlaintext.removeFirst(sent)
    }

    func readRecords() {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while plaintext.count < TLSConnection.bufferLimit {
            let status = chunk.withUnsafeMutableBufferPointer { mbedtls_ssl_read(ssl, $0.baseAddress!, $0.count) }
            if status > 0 {
                chunk.withUnsafeBytes { plaintext.append(UnsafeRawBufferPointer(rebasing: $0[0..<Int(status)])) }
                continue
            }
            if status == MBEDTLS_ERR_SSL_WANT_READ || status == MBEDTLS_ERR_SSL_WANT_WRITE { return }
            if status == 0 || status == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY {
                progress = .closed
                return
            }
            fail(recordError(status))
            return
        }
    }

    func fail(_ error: TLSError) {
        progress = .failed(error)
    }

    // MARK: reasons

    func handshakeError(_ status: Int32) -> TLSError {
        if status == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED { return verificationError() }
        if status == MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE { return .noSharedCipher }
        if status == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE { return .clientCertificateMissing }
        if status == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE {
            let alert = deskphone_tls_last_alert(ssl)
            if !configuration.isServer && deskphone_tls_client_auth_requested(ssl) != 0
                && !configuration.hasOwnCertificate
            {
                return .clientCertificateRequested
            }
            // A handshake_failure answering the ClientHello: nothing offered was acceptable.
            if alert == 40 && deskphone_tls_state(ssl) <= Int32(MBEDTLS_SSL_SERVER_HELLO.rawValue) {
                return .noSharedCipher
            }
            if alert >= 0 { return .peerAlert(UInt8(alert)) }
        }
        return recordError(status)
    }

    func recordError(_ status: Int32) -> TLSError {
        if status == MBEDTLS_ERR_SSL_INVALID_RECORD || status == MBEDTLS_ERR_SSL_INVALID_MAC
            || status == MBEDTLS_ERR_SSL_UNEXPECTED_RECORD || status == MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE
            || status == MBEDTLS_ERR_SSL_BAD_INPUT_DATA
        {
            return .badRecord(TLSError.message(status))
        }
        if status == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE {
            let alert = deskphone_tls_last_alert(ssl)
            if alert >= 0 { return .peerAlert(UInt8(alert)) }
        }
        return .failed(code: status, message: TLSError.message(status))
    }

    /// The reason for a refused certificate, most telling first.
    func verificationError() -> TLSError {
        let f = verifyFlags
        if f & UInt32(MBEDTLS_X509_BADCERT_NOT_TRUSTED) != 0 {
            return peerSelfIssued ? .untrustedSelfSigned : .issuerUnknown
        }
        if f & UInt32(MBEDTLS_X509_BADCERT_EXPIRED) != 0 { return .certificateExpired }
        if f & UInt32(MBEDTLS_X509_BADCERT_FUTURE) != 0 { return .certificateNotYetValid }
        if identityMismatch || f & UInt32(MBEDTLS_X509_BADCERT_CN_MISMATCH) != 0 {
            return .hostNameMismatch(wanted: serverName)
        }
        return .certificateRejected(flags: f)
    }

    /// mbedTLS's verify callback, once per certificate of the chain (root first). At depth 0 our
    /// RFC 5922 check replaces mbedTLS's own name check.
    func verify(_ certificate: UnsafePointer<mbedtls_x509_crt>, depth: Int32, flags: inout UInt32) {
        if depth == 0 {
            peerSelfIssued = deskphone_tls_self_issued(certificate) != 0
            flags &= ~UInt32(MBEDTLS_X509_BADCERT_CN_MISMATCH)
            identityMismatch = !ServerIdentity.matches(CertificateNames(certificate), wanted: serverName)
            if identityMismatch { flags |= UInt32(MBEDTLS_X509_BADCERT_CN_MISMATCH) }
        }
        verifyFlags |= flags
    }

    // MARK: BIO

    func send(_ bytes: UnsafePointer<UInt8>, count: Int) -> Int32 {
        if pendingCiphertext > TLSConnection.bufferLimit { return MBEDTLS_ERR_SSL_WANT_WRITE }
        outgoing.append(UnsafeRawBufferPointer(start: bytes, count: count))
        return Int32(count)
    }

    func receive(_ buffer: UnsafeMutablePointer<UInt8>, count: Int) -> Int32 {
        let n = incoming.take(into: UnsafeMutableRawBufferPointer(start: buffer, count: count))
        return n == 0 ? MBEDTLS_ERR_SSL_WANT_READ : Int32(n)
    }
}

private func tlsSend(_ context: UnsafeMutableRawPointer?, _ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    guard let context, let bytes else { return MBEDTLS_ERR_SSL_BAD_INPUT_DATA }
    return Unmanaged<TLSConnection>.fromOpaque(context).takeUnretainedValue().send(bytes, count: count)
}

private func tlsReceive(_ context: UnsafeMutableRawPointer?, _ buffer: UnsafeMutablePointer<UInt8>?, _ count: Int)
    -> Int32
{
    guard let context, let buffer else { return MBEDTLS_ERR_SSL_BAD_INPUT_DATA }
    return Unmanaged<TLSConnection>.fromOpaque(context).takeUnretainedValue().receive(buffer, count: count)
}

private func tlsVerify(
    _ context: UnsafeMutableRawPointer?, _ certificate: UnsafeMutablePointer<mbedtls_x509_crt>?, _ depth: Int32,
    _ flags: UnsafeMutablePointer<UInt32>?
) -> Int32 {
    guard let context, let certificate, let flags else { return MBEDTLS_ERR_X509_BAD_INPUT_DATA }
    Unmanaged<TLSConnection>.fromOpaque(context).takeUnretainedValue().verify(
        certificate, depth: depth, flags: &flags.pointee)
    return 0
}

extension CertificateNames {
    /// The names of an mbedTLS certificate: its subjectAltName entries and subject CN.
    init(_ certificate: UnsafePointer<mbedtls_x509_crt>) {
        self.init()
        var entry: UnsafePointer<mbedtls_x509_sequence>? = deskphone_tls_subject_alt_names(certificate)
        while let e = entry {
            let buf = e.pointee.buf
            if let p = buf.p, buf.len > 0 {
                let bytes = Array(UnsafeBufferPointer(start: p, count: buf.len))
                switch Int32(buf.tag) & 0x1f {
                case 2: dnsNames.append(String(decoding: bytes, as: UTF8.self))
                case 6: uris.append(String(decoding: bytes, as: UTF8.self))
                case 7: if bytes.count == 4 || bytes.count == 16 { ipAddresses.append(bytes) }
                default: break
                }
            }
            entry = UnsafePointer(e.pointee.next)
        }
        if let cn = deskphone_tls_subject_cn(certificate), let p = cn.pointee.p {
            commonName = String(decoding: UnsafeBufferPointer(start: p, count: cn.pointee.len), as: UTF8.self)
        }
    }
}
