/// A digest algorithm of RFC 7616 §3.2 / RFC 8760 §2: the hash H() and whether A1 is the
/// session variant ("-sess", where HA1 = H(H(user:realm:password):nonce:cnonce)).
public enum DigestAlgorithm: Hashable, Sendable, CustomStringConvertible {
    case md5
    case md5Session
    case sha256
    case sha256Session
    case sha512_256
    case sha512_256Session

    /// Every supported algorithm, weakest first.
    public static let all: [DigestAlgorithm] = [
        .md5, .md5Session, .sha256, .sha256Session, .sha512_256, .sha512_256Session,
    ]

    /// Parses an algorithm token case-insensitively ("MD5", "md5-sess", "SHA-256", "SHA-512-256").
    /// Unknown tokens (e.g. "AKAv1-MD5", "SHA-1") give nil.
    public init?(token: String) {
        let lowered = DigestSyntax.lowercased(token)
        for algorithm in DigestAlgorithm.all where DigestSyntax.lowercased(algorithm.token) == lowered {
            self = algorithm
            return
        }
        return nil
    }

    /// The canonical token written in an Authorization header (RFC 7616 §6.1 registry spelling).
    public var token: String {
        switch self {
        case .md5: "MD5"
        case .md5Session: "MD5-sess"
        case .sha256: "SHA-256"
        case .sha256Session: "SHA-256-sess"
        case .sha512_256: "SHA-512-256"
        case .sha512_256Session: "SHA-512-256-sess"
        }
    }

    public var description: String { token }

    /// True for the "-sess" variants (RFC 7616 §3.4.2).
    public var isSession: Bool {
        switch self {
        case .md5Session, .sha256Session, .sha512_256Session: true
        case .md5, .sha256, .sha512_256: false
        }
    }

    /// Preference rank: larger is stronger. SHA-512-256 > SHA-256 > MD5 (RFC 8760 §2.4,
    /// RFC 7616 §3.7); at equal hash, the plain variant ranks above "-sess" (simpler, and
    /// what servers list first).
    public var strength: Int {
        switch self {
        case .md5Session: 0
        case .md5: 1
        case .sha256Session: 2
        case .sha256: 3
        case .sha512_256Session: 4
        case .sha512_256: 5
        }
    }

    /// H(text) as lowercase hex (RFC 7616 §3.4.1).
    public func hexDigest(_ text: String) -> String {
        switch self {
        case .md5, .md5Session: MD5.hexDigest(text)
        case .sha256, .sha256Session: SHA256.hexDigest(text)
        case .sha512_256, .sha512_256Session: SHA512_256.hexDigest(text)
        }
    }

    /// H(bytes) as lowercase hex (the H(entity-body) of auth-int).
    public func hexDigest(_ bytes: [UInt8]) -> String {
        switch self {
        case .md5, .md5Session: MD5.hexDigest(bytes)
        case .sha256, .sha256Session: SHA256.hexDigest(bytes)
        case .sha512_256, .sha512_256Session: SHA512_256.hexDigest(bytes)
        }
    }
}

/// A quality of protection of RFC 7616 §3.3 (qop-options) / §3.4 (qop).
public enum DigestQop: Hashable, Sendable, CustomStringConvertible {
    /// Authentication only: HA2 = H(method:digest-uri).
    case auth
    /// Authentication with integrity of the body: HA2 = H(method:digest-uri:H(body)).
    case authInt

    /// Parses "auth" / "auth-int" case-insensitively; other tokens give nil.
    public init?(token: String) {
        switch DigestSyntax.lowercased(token) {
        case "auth": self = .auth
        case "auth-int": self = .authInt
        default: return nil
        }
    }

    public var token: String {
        switch self {
        case .auth: "auth"
        case .authInt: "auth-int"
        }
    }

    public var description: String { token }
}

/// Who sent a challenge, which decides the header names (RFC 3261 §22.2 and §22.3): a UAS or
/// registrar answers 401 with WWW-Authenticate and wants Authorization; a proxy answers 407
/// with Proxy-Authenticate and wants Proxy-Authorization.
public enum DigestChallenger: Hashable, Sendable, CustomStringConvertible {
    case server
    case proxy

    /// 401 gives `.server`, 407 gives `.proxy`, anything else nil.
    public init?(status: Int) {
        switch status {
        case 401: self = .server
        case 407: self = .proxy
        default: return nil
        }
    }

    /// The response status that carries this kind of challenge.
    public var status: Int {
        switch self {
        case .server: 401
        case .proxy: 407
        }
    }

    /// "WWW-Authenticate" or "Proxy-Authenticate".
    public var challengeHeaderName: String {
        switch self {
        case .server: "WWW-Authenticate"
        case .proxy: "Proxy-Authenticate"
        }
    }

    /// "Authorization" or "Proxy-Authorization": the header the retried request carries.
    public var credentialsHeaderName: String {
        switch self {
        case .server: "Authorization"
        case .proxy: "Proxy-Authorization"
        }
    }

    public var description: String {
        switch self {
        case .server: "server"
        case .proxy: "proxy"
        }
    }
}
