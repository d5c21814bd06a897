/// The client side of TLS as the phone configures it once (trust store, optional client
/// certificate, whether the server is checked), shared by everything that opens TLS connections
/// (SIP over TLS, HTTPS): the `TLSConfiguration` is built at the first connection and kept, with
/// its saved sessions. A configuration that cannot be built (an unreadable trust file) is tried
/// again at the next connection.
public final class TLSClientProfile {
    /// PEM bundle of trusted CAs (nil: the system bundle).
    public let trustFile: String?
    public let clientCertificateFile: String?
    public let clientKeyFile: String?
    /// false accepts any server certificate (lab use only).
    public let verifyPeer: Bool
    private var built: TLSConfiguration? = nil

    public init(
        trustFile: String?, clientCertificateFile: String? = nil, clientKeyFile: String? = nil, verifyPeer: Bool = true
    ) {
        self.trustFile = trustFile
        self.clientCertificateFile = clientCertificateFile
        self.clientKeyFile = clientKeyFile
        self.verifyPeer = verifyPeer
    }

    /// The shared configuration, built on first use.
    public func configuration() throws(TLSError) -> TLSConfiguration {
        if let built { return built }
        let made = try TLSConfiguration(
            trustFile: trustFile, clientCertificateFile: clientCertificateFile, clientKeyFile: clientKeyFile,
            verifyPeer: verifyPeer)
        built = made
        return made
    }

    /// A new client connection checking the server's certificate against `serverName` (a host
    /// name or an IP literal, RFC 5922 / RFC 6125).
    public func connection(serverName: String) throws(TLSError) -> TLSConnection {
        try TLSConnection(configuration: try configuration(), serverName: serverName)
    }
}
