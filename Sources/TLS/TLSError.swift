import CMbedTLS

/// Why a TLS configuration could not be built or a TLS connection failed; `reason` is the
/// human line for the log and the LCD ("certificate has expired", "host name mismatch
/// (wanted pbx.test)").
public enum TLSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The trust bundle (PEM) could not be read or holds no certificate.
    case trustFileUnreadable(path: String)
    /// The own certificate (PEM) could not be read.
    case certificateFileUnreadable(path: String)
    /// The own private key (PEM) could not be read, or does not belong to the certificate.
    case keyFileUnreadable(path: String)
    /// mbedTLS refused to set up (what failed, mbedTLS's message).
    case setupFailed(String)
    /// The server's certificate (or one in its chain) is past its notAfter date.
    case certificateExpired
    /// The server's certificate (or one in its chain) is before its notBefore date.
    case certificateNotYetValid
    /// The certificate does not name the host the phone wanted (RFC 5922 §7).
    case hostNameMismatch(wanted: String)
    /// The server presented a self-signed certificate that is not in the trust store.
    case untrustedSelfSigned
    /// The chain does not lead to a trusted certificate (unknown CA, missing intermediate).
    case issuerUnknown
    /// The certificate was refused for another reason (mbedTLS verification flags).
    case certificateRejected(flags: UInt32)
    /// Client and server have no cipher suite in common.
    case noSharedCipher
    /// The server asked for a client certificate and the phone has none configured.
    case clientCertificateRequested
    /// (server side) The client sent no certificate though one is required.
    case clientCertificateMissing
    /// The peer ended the handshake or the session with a fatal alert (RFC 5246 §7.2).
    case peerAlert(UInt8)
    /// A record that does not decode or authenticate (garbage, tampering).
    case badRecord(String)
    /// Any other mbedTLS failure: its code and message.
    case failed(code: Int32, message: String)

    /// The reason as one short human line.
    public var reason: String {
        switch self {
        case .trustFileUnreadable(let path): return "trust file unreadable: " + path
        case .certificateFileUnreadable(let path): return "certificate file unreadable: " + path
        case .keyFileUnreadable(let path): return "key file unreadable or not matching the certificate: " + path
        case .setupFailed(let what): return "TLS setup failed: " + what
        case .certificateExpired: return "certificate has expired"
        case .certificateNotYetValid: return "certificate not yet valid"
        case .hostNameMismatch(let wanted): return "host name mismatch (wanted " + wanted + ")"
        case .untrustedSelfSigned: return "untrusted (self-signed)"
        case .issuerUnknown: return "issuer unknown (no trusted CA, or an intermediate is missing)"
        case .certificateRejected(let flags): return "certificate rejected (mbedTLS flags 0x" + hex(flags) + ")"
        case .noSharedCipher: return "no shared cipher"
        case .clientCertificateRequested: return "peer asked for a client certificate"
        case .clientCertificateMissing: return "peer sent no client certificate"
        case .peerAlert(let code): return "peer sent alert " + TLSError.alertName(code)
        case .badRecord(let what): return "bad record: " + what
        case .failed(let code, let message): return message + " (mbedTLS -0x" + hex(UInt32(-Int64(code))) + ")"
        }
    }

    public var description: String { reason }

    /// RFC 5246 §7.2 alert names for the alerts a phone meets; the number otherwise.
    static func alertName(_ code: UInt8) -> String {
        switch code {
        case 10: return "unexpected_message"
        case 20: return "bad_record_mac"
        case 40: return "handshake_failure"
        case 42: return "bad_certificate"
        case 43: return "unsupported_certificate"
        case 44: return "certificate_revoked"
        case 45: return "certificate_expired"
        case 46: return "certificate_unknown"
        case 47: return "illegal_parameter"
        case 48: return "unknown_ca"
        case 50: return "decode_error"
        case 51: return "decrypt_error"
        case 70: return "protocol_version"
        case 71: return "insufficient_security"
        case 80: return "internal_error"
        case 112: return "unrecognized_name"
        case 116: return "certificate_required"
        default:
            var digits: [UInt8] = []
            var v = Int(code)
            repeat {
                digits.insert(48 + UInt8(v % 10), at: 0)
                v /= 10
            } while v > 0
            return String(decoding: digits, as: UTF8.self)
        }
    }

    /// mbedTLS's message for an error code (mbedtls_strerror).
    static func message(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 160)
        buffer.withUnsafeMutableBufferPointer { mbedtls_strerror(code, $0.baseAddress, $0.count) }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

private func hex(_ value: UInt32) -> String {
    var out: [UInt8] = []
    var v = value
    repeat {
        let d = UInt8(v & 15)
        out.insert(d < 10 ? 48 + d : 87 + d, at: 0)
        v >>= 4
    } while v != 0
    return String(decoding: out, as: UTF8.self)
}
