/// Digest credentials: the value of an Authorization or Proxy-Authorization header (RFC 3261
/// §22.4 `digest-response`, RFC 7616 §3.4). Built by a client answering a `DigestChallenge`,
/// or parsed by a server (our test registrar, the fuzzer) and checked with `verify`.
public struct DigestCredentials: Equatable, CustomStringConvertible {
    /// Decides the header name: `Authorization` (server) or `Proxy-Authorization` (proxy).
    public var challenger: DigestChallenger
    /// The username as sent: the plain name, or H(username:realm) when `userhash`.
    public var username: String
    public var realm: String
    public var nonce: String
    /// The digest-uri: the Request-URI text of the request (RFC 3261 §22.4).
    public var uri: String
    /// The request-digest, lowercase hex.
    public var response: String
    public var algorithm: DigestAlgorithm
    /// Whether `algorithm=` is written (only when the challenge named it).
    public var algorithmWasSpecified: Bool
    public var cnonce: String?
    public var opaque: String?
    /// nil when answering a challenge without qop (RFC 2069 compatibility).
    public var qop: DigestQop?
    /// The nonce count (`nc`), present with qop.
    public var nonceCount: UInt32?
    public var userhash: Bool

    /// The header this value goes in.
    public var headerName: String { challenger.credentialsHeaderName }

    public init(
        challenger: DigestChallenger = .server, username: String, realm: String, nonce: String, uri: String,
        response: String, algorithm: DigestAlgorithm = .md5, algorithmWasSpecified: Bool = true,
        cnonce: String? = nil, opaque: String? = nil, qop: DigestQop? = nil, nonceCount: UInt32? = nil,
        userhash: Bool = false
    ) {
        self.challenger = challenger
        self.username = username
        self.realm = realm
        self.nonce = nonce
        self.uri = uri
        self.response = response
        self.algorithm = algorithm
        self.algorithmWasSpecified = algorithmWasSpecified
        self.cnonce = cnonce
        self.opaque = opaque
        self.qop = qop
        self.nonceCount = nonceCount
        self.userhash = userhash
    }

    /// Answers `challenge` (RFC 7616 §3.4.1-3.4.4) for a request with `method` (INVITE,
    /// REGISTER, BYE, INFO, ...), Request-URI text `uri` and `body` (used by auth-int).
    /// qop: `auth` when offered, else `auth-int` when that is all that is offered, else none.
    /// `cnonce` is used with qop and by the -sess algorithms; `nonceCount` is written as nc.
    public init(
        answering challenge: DigestChallenge, username: String, password: String, method: String, uri: String,
        body: [UInt8] = [], cnonce: String, nonceCount: UInt32
    ) {
        let qop: DigestQop? =
            challenge.qopOptions.contains(.auth) ? .auth : (challenge.qopOptions.contains(.authInt) ? .authInt : nil)
        let usesCnonce = qop != nil || challenge.algorithm.isSession
        let response = DigestCredentials.requestDigest(
            algorithm: challenge.algorithm, username: username, realm: challenge.realm, password: password,
            nonce: challenge.nonce, cnonce: usesCnonce ? cnonce : nil, nonceCount: qop != nil ? nonceCount : nil,
            qop: qop, method: method, uri: uri, body: body)
        self.init(
            challenger: challenge.challenger,
            username: challenge.userhash ? challenge.algorithm.hexDigest(username + ":" + challenge.realm) : username,
            realm: challenge.realm, nonce: challenge.nonce, uri: uri, response: response,
            algorithm: challenge.algorithm, algorithmWasSpecified: challenge.algorithmWasSpecified,
            cnonce: usesCnonce ? cnonce : nil, opaque: challenge.opaque, qop: qop,
            nonceCount: qop != nil ? nonceCount : nil, userhash: challenge.userhash)
    }

    /// The request-digest of RFC 7616 §3.4.1 (RFC 2617 §3.2.2.1):
    /// HA1 = H(username:realm:password), or for -sess H(H(username:realm:password):nonce:cnonce);
    /// HA2 = H(method:uri), or for auth-int H(method:uri:H(body));
    /// response = H(HA1:nonce:nc:cnonce:qop:HA2) with qop, H(HA1:nonce:HA2) without.
    /// `username` is the plain name even when userhash is in use.
    public static func requestDigest(
        algorithm: DigestAlgorithm, username: String, realm: String, password: String, nonce: String,
        cnonce: String?, nonceCount: UInt32?, qop: DigestQop?, method: String, uri: String, body: [UInt8] = []
    ) -> String {
        var ha1 = algorithm.hexDigest(username + ":" + realm + ":" + password)
        if algorithm.isSession {
            ha1 = algorithm.hexDigest(ha1 + ":" + nonce + ":" + (cnonce ?? ""))
        }
        var a2 = method + ":" + uri
        if qop == .authInt {
            a2 += ":" + algorithm.hexDigest(body)
        }
        let ha2 = algorithm.hexDigest(a2)
        guard let qop else {
            return algorithm.hexDigest(ha1 + ":" + nonce + ":" + ha2)
        }
        return algorithm.hexDigest(
            ha1 + ":" + nonce + ":" + DigestCredentials.nonceCountText(nonceCount ?? 1) + ":" + (cnonce ?? "") + ":"
                + qop.token + ":" + ha2)
    }

    /// nc as eight lowercase hex digits (RFC 7616 §3.4: `nc=00000001`).
    public static func nonceCountText(_ count: UInt32) -> String {
        var digits: [UInt8] = []
        for shift in stride(from: 28, through: 0, by: -4) {
            digits.append(HashBits.hexDigitByte(UInt8(truncatingIfNeeded: count >> UInt32(shift)) & 0x0f))
        }
        return String(decoding: digits, as: UTF8.self)
    }

    /// The header value, quoting as RFC 7616 §3.4 does (qop, nc and algorithm unquoted):
    /// `Digest username="..", realm="..", nonce="..", uri="..", response="..", algorithm=..,
    /// cnonce="..", opaque="..", qop=auth, nc=00000001`.
    public var headerValue: String {
        var text = "Digest username=" + DigestSyntax.quoted(username)
        text += ", realm=" + DigestSyntax.quoted(realm)
        text += ", nonce=" + DigestSyntax.quoted(nonce)
        text += ", uri=" + DigestSyntax.quoted(uri)
        text += ", response=" + DigestSyntax.quoted(response)
        if algorithmWasSpecified {
            text += ", algorithm=" + algorithm.token
        }
        if let cnonce {
            text += ", cnonce=" + DigestSyntax.quoted(cnonce)
        }
        if let opaque {
            text += ", opaque=" + DigestSyntax.quoted(opaque)
        }
        if let qop {
            text += ", qop=" + qop.token
        }
        if let nonceCount {
            text += ", nc=" + DigestCredentials.nonceCountText(nonceCount)
        }
        if userhash {
            text += ", userhash=true"
        }
        return text
    }

    public var description: String {
        headerName + ": " + headerValue
    }

    /// Parses an Authorization / Proxy-Authorization value (server side). Requires username,
    /// realm, nonce, uri and response; with qop also cnonce and nc (RFC 7616 §3.4). Values
    /// are accepted quoted or as tokens; unknown parameters are ignored.
    public static func parse(
        _ value: String, challenger: DigestChallenger = .server
    ) throws(DigestError) -> DigestCredentials {
        let raw = try DigestScanner.challenges(in: value)
        guard raw.count == 1 else {
            throw DigestError(.syntax, "credentials value holds " + String(raw.count) + " schemes, expected one")
        }
        guard raw[0].isDigest else {
            throw DigestError(.unsupportedScheme, "credentials use scheme '" + raw[0].scheme + "', not Digest")
        }
        let parameters = try raw[0].uniqueParameters()
        func required(_ name: String) throws(DigestError) -> String {
            guard let parameter = parameters[name] else {
                throw DigestError(.missingParameter, "Digest credentials without '" + name + "'")
            }
            return parameter.value
        }
        var algorithm = DigestAlgorithm.md5
        if let token = parameters["algorithm"] {
            guard let known = DigestAlgorithm(token: token.value) else {
                throw DigestError(.unsupportedAlgorithm, "algorithm '" + token.value + "' is not supported")
            }
            algorithm = known
        }
        let response = DigestSyntax.lowercased(try required("response"))
        let expectedLength = algorithm.hexDigest("").utf8.count
        guard response.utf8.count == expectedLength, DigestSyntax.isHex(response) else {
            throw DigestError(
                .invalidParameter,
                "response is not " + String(expectedLength) + " hex digits for " + algorithm.token)
        }
        var qop: DigestQop? = nil
        var nonceCount: UInt32? = nil
        if let qopText = parameters["qop"] {
            guard let known = DigestQop(token: qopText.value) else {
                throw DigestError(.unsupportedQop, "qop '" + qopText.value + "' is neither auth nor auth-int")
            }
            qop = known
            let nc = try required("nc")
            guard nc.utf8.count == 8, DigestSyntax.isHex(nc) else {
                throw DigestError(.invalidParameter, "nc '" + nc + "' is not 8 hex digits")
            }
            nonceCount = DigestSyntax.hexValue(nc)
            _ = try required("cnonce")
        }
        return DigestCredentials(
            challenger: challenger, username: try required("username"), realm: try required("realm"),
            nonce: try required("nonce"), uri: try required("uri"), response: response, algorithm: algorithm,
            algorithmWasSpecified: parameters["algorithm"] != nil, cnonce: parameters["cnonce"]?.value,
            opaque: parameters["opaque"]?.value, qop: qop, nonceCount: nonceCount,
            userhash: DigestSyntax.lowercased(parameters["userhash"]?.value ?? "") == "true")
    }

    /// The request-digest these credentials should carry for `password`, `method` and `body`.
    /// `plainUsername` is needed when `userhash` is set (the sent name is a hash).
    public func expectedResponse(
        password: String, method: String, body: [UInt8] = [], plainUsername: String? = nil
    ) -> String {
        DigestCredentials.requestDigest(
            algorithm: algorithm, username: plainUsername ?? username, realm: realm, password: password,
            nonce: nonce, cnonce: cnonce, nonceCount: nonceCount, qop: qop, method: method, uri: uri, body: body)
    }

    /// True when `response` is the request-digest for `password` (a registrar's check; nonce
    /// freshness and nc replay are the caller's business). With userhash, pass `plainUsername`
    /// and it is also checked against the hashed name.
    public func verify(password: String, method: String, body: [UInt8] = [], plainUsername: String? = nil) -> Bool {
        if userhash, let plainUsername, algorithm.hexDigest(plainUsername + ":" + realm) != username {
            return false
        }
        let expected = expectedResponse(password: password, method: method, body: body, plainUsername: plainUsername)
        // Compare every byte so the time taken does not depend on where they differ.
        let left = Array(expected.utf8)
        let right = Array(DigestSyntax.lowercased(response).utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices {
            difference |= left[index] ^ right[index]
        }
        return difference == 0
    }
}
