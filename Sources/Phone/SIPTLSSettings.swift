// How the phone checks the servers it talks SIP over TLS with (RFC 3261 §26.2.1, RFC 5922), read
// from provisioning (desk-phone key names; Yealink has security.trust_certificates and takes
// certificate files by upload: this phone reads local paths). The server's name (RFC 5922) is
// checked whenever the chain is: there is no switch to skip only the name (Yealink's
// security.cn_validation = 0 is refused).
//
// Keys (defaults in brackets):
//   security.trust_certificates          0|1 [1]  check the server's chain against the trusted
//                                        certificates (0: accept any certificate, logged as a
//                                        warning at start: for lab use only)
//   security.trusted_certificates.file   PEM file of trusted CA certificates
//                                        [/etc/ssl/certs/ca-certificates.crt, the system bundle]
//   security.client_certificate.file     PEM client certificate for mutual TLS [none]
//   security.client_certificate.key_file PEM key of that certificate [none]; both or neither

import Config

/// The TLS trust settings of SIP over TLS: which CA certificates are trusted, whether the chain
/// and the name are checked, and the optional client certificate.
public struct SIPTLSSettings: Equatable, Sendable {
    public static let systemTrustFile = "/etc/ssl/certs/ca-certificates.crt"
    public var trustFile = SIPTLSSettings.systemTrustFile
    public var verifiesPeer = true
    public var clientCertificateFile: String? = nil
    public var clientKeyFile: String? = nil

    public init() {}

    /// Reads `security.*`; a client certificate without its key (or the reverse) is refused.
    public init(_ file: ConfigFile) throws(ConfigError) {
        verifiesPeer = try file.bool("security.trust_certificates", default: true)
        if let entry = file.entry("security.cn_validation"), entry.value != "1" {
            throw file.error(
                "security.cn_validation",
                "security.cn_validation = '" + entry.value + "': the server's name is always checked with its chain "
                    + "(security.trust_certificates = 0 turns both off)")
        }
        if let trust = file.string("security.trusted_certificates.file"), !trust.isEmpty { trustFile = trust }
        let certificate = file.string("security.client_certificate.file") ?? ""
        let key = file.string("security.client_certificate.key_file") ?? ""
        if certificate.isEmpty != key.isEmpty {
            let missing = certificate.isEmpty ? "security.client_certificate.file" : "security.client_certificate.key_file"
            let given = certificate.isEmpty ? "security.client_certificate.key_file" : "security.client_certificate.file"
            throw file.error(given, given + " is set but " + missing + " is not: a client certificate needs both")
        }
        clientCertificateFile = certificate.isEmpty ? nil : certificate
        clientKeyFile = key.isEmpty ? nil : key
    }

    /// A warning for the log when the settings accept servers they cannot vouch for.
    public var warning: String? {
        if !verifiesPeer { return "security.trust_certificates = 0: TLS servers are not checked (any certificate)" }
        return nil
    }

    public static let knownPrefixes = ["security."]
}
