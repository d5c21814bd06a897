import CMbedTLS

/// One TLS profile (trust store, own certificate, role), built once per account or server and
/// shared by its connections; it also keeps the last session per server name so that a
/// reconnect resumes (RFC 5246 §7.3, RFC 5077 tickets when the server issues them).
/// TLS 1.2 only (mbedTLS 2.28 has no TLS 1.3), ECDHE with AES-GCM or ChaCha20-Poly1305.
public final class TLSConfiguration {
    /// The system trust bundle, used when no trust file is given.
    public static let systemTrustFile = "/etc/ssl/certs/ca-certificates.crt"

    /// The cipher suites offered and accepted: forward secret, AEAD only.
    static let strongSuites: [Int32] = [
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]

    /// Whether connections made from this configuration are servers (tests, a local peer).
    public let isServer: Bool
    /// Whether the peer's certificate is verified (chain, dates, identity). On by default.
    public let verifyPeer: Bool
    /// Whether an own certificate is configured (mutual TLS on the client side).
    public let hasOwnCertificate: Bool

    let config = UnsafeMutablePointer<mbedtls_ssl_config>.allocate(capacity: 1)
    let drbg = UnsafeMutablePointer<mbedtls_ctr_drbg_context>.allocate(capacity: 1)
    let trust = UnsafeMutablePointer<mbedtls_x509_crt>.allocate(capacity: 1)
    let ownCertificate = UnsafeMutablePointer<mbedtls_x509_crt>.allocate(capacity: 1)
    let ownKey = UnsafeMutablePointer<mbedtls_pk_context>.allocate(capacity: 1)
    let cache = UnsafeMutablePointer<mbedtls_ssl_cache_context>.allocate(capacity: 1)
    /// The zero-terminated suite list mbedTLS keeps a pointer to.
    let suites: UnsafeMutablePointer<Int32>
    /// The last session per server name (client side).
    var sessions: [(serverName: String, session: UnsafeMutablePointer<mbedtls_ssl_session>)] = []

    /// A client configuration.
    /// - trustFile: PEM bundle of trusted CAs; nil means the system bundle.
    /// - clientCertificateFile, clientKeyFile: PEM certificate (chain) and key for mutual TLS.
    /// - verifyPeer: false accepts any server certificate (never the default; for lab setups).
    public convenience init(
        trustFile: String?, clientCertificateFile: String? = nil, clientKeyFile: String? = nil,
        verifyPeer: Bool = true
    ) throws(TLSError) {
        try self.init(
            server: false, trustFile: trustFile ?? TLSConfiguration.systemTrustFile,
            certificateFile: clientCertificateFile, keyFile: clientKeyFile, verifyPeer: verifyPeer,
            suites: TLSConfiguration.strongSuites)
    }

    /// A server configuration: its certificate file may hold the chain (leaf first, then
    /// intermediates), all of which are sent. With `clientTrustFile` the client must present a
    /// certificate that chains to it.
    public convenience init(
        serverCertificateFile: String, serverKeyFile: String, clientTrustFile: String? = nil
    ) throws(TLSError) {
        try self.init(
            server: true, trustFile: clientTrustFile, certificateFile: serverCertificateFile,
            keyFile: serverKeyFile, verifyPeer: clientTrustFile != nil, suites: TLSConfiguration.strongSuites)
    }

    init(
        server: Bool, trustFile: String?, certificateFile: String?, keyFile: String?, verifyPeer: Bool,
        suites suiteList: [Int32]
    ) throws(TLSError) {
        isServer = server
        self.verifyPeer = verifyPeer
        hasOwnCertificate = certificateFile != nil
        suites = UnsafeMutablePointer<Int32>.allocate(capacity: suiteList.count + 1)
        for (i, s) in suiteList.enumerated() { suites[i] = s }
        suites[suiteList.count] = 0
        mbedtls_ssl_config_init(config)
        mbedtls_ctr_drbg_init(drbg)
        mbedtls_x509_crt_init(trust)
        mbedtls_x509_crt_init(ownCertificate)
        mbedtls_pk_init(ownKey)
        mbedtls_ssl_cache_init(cache)

        var status = mbedtls_ssl_config_defaults(
            config, server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
            MBEDTLS_SSL_PRESET_DEFAULT)
        if status != 0 { throw .setupFailed("defaults: " + TLSError.message(status)) }
        status = deskphone_tls_drbg_seed(drbg)
        if status != 0 { throw .setupFailed("random seed: " + TLSError.message(status)) }
        deskphone_tls_conf_rng(config, drbg)
        mbedtls_ssl_conf_min_version(config, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3)
        mbedtls_ssl_conf_ciphersuites(config, suites)
        if server { deskphone_tls_conf_cache(config, cache) }

        if let trustFile, verifyPeer {
            // parse_file returns the count of certificates it skipped (> 0) or an error (< 0);
            // a bundle with some odd entries is fine as long as one certificate loaded.
            status = mbedtls_x509_crt_parse_file(trust, trustFile)
            if status < 0 || trust.pointee.version == 0 { throw .trustFileUnreadable(path: trustFile) }
            mbedtls_ssl_conf_ca_chain(config, trust, nil)
        }
        mbedtls_ssl_conf_authmode(config, verifyPeer ? MBEDTLS_SSL_VERIFY_REQUIRED : MBEDTLS_SSL_VERIFY_NONE)

        if let certificateFile {
            if mbedtls_x509_crt_parse_file(ownCertificate, certificateFile) != 0 {
                throw .certificateFileUnreadable(path: certificateFile)
            }
            let key = keyFile ?? certificateFile
            if mbedtls_pk_parse_keyfile(ownKey, key, nil) != 0
                || mbedtls_ssl_conf_own_cert(config, ownCertificate, ownKey) != 0
                || mbedtls_pk_check_pair(&ownCertificate.pointee.pk, ownKey) != 0
            {
                throw .keyFileUnreadable(path: key)
            }
        }
    }

    deinit {
        for entry in sessions {
            mbedtls_ssl_session_free(entry.session)
            entry.session.deallocate()
        }
        mbedtls_ssl_config_free(config)
        mbedtls_ctr_drbg_free(drbg)
        mbedtls_x509_crt_free(trust)
        mbedtls_x509_crt_free(ownCertificate)
        mbedtls_pk_free(ownKey)
        mbedtls_ssl_cache_free(cache)
        config.deallocate()
        drbg.deallocate()
        trust.deallocate()
        ownCertificate.deallocate()
        ownKey.deallocate()
        cache.deallocate()
        suites.deallocate()
    }

    /// The saved session for `serverName`, if a handshake with it completed before.
    func savedSession(for serverName: String) -> UnsafeMutablePointer<mbedtls_ssl_session>? {
        sessions.first { $0.serverName == serverName }?.session
    }

    /// Keeps the session of a finished handshake with `serverName` (replacing the older one).
    func saveSession(of ssl: UnsafePointer<mbedtls_ssl_context>, serverName: String) {
        let session = UnsafeMutablePointer<mbedtls_ssl_session>.allocate(capacity: 1)
        mbedtls_ssl_session_init(session)
        if mbedtls_ssl_get_session(ssl, session) != 0 {
            mbedtls_ssl_session_free(session)
            session.deallocate()
            return
        }
        forgetSession(for: serverName)
        sessions.append((serverName, session))
    }

    /// Drops the saved session for `serverName` (after a failure with it).
    func forgetSession(for serverName: String) {
        if let i = sessions.firstIndex(where: { $0.serverName == serverName }) {
            mbedtls_ssl_session_free(sessions[i].session)
            sessions[i].session.deallocate()
            sessions.remove(at: i)
        }
    }
}
