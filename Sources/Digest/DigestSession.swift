import CLinux

/// What a UA should do with a 401/407 challenge (RFC 3261 §22.2-22.3, RFC 7616 §3.3 stale).
public enum DigestRetryDecision: Equatable, CustomStringConvertible {
    /// First challenge in this realm (or the first since a request succeeded): answer it.
    case answer
    /// stale=true after our answer: the credentials were right, the nonce expired; answer again
    /// with the new nonce without asking the user.
    case answerStaleNonce
    /// Challenged again in a realm we just answered, without stale: the username or password is
    /// wrong. Do not retry; tell the user.
    case credentialsRejected
    /// stale=true too many times in a row: the server is looping; give up.
    case staleLoop

    /// True for `.answer` and `.answerStaleNonce`.
    public var shouldRetry: Bool {
        self == .answer || self == .answerStaleNonce
    }

    public var description: String {
        switch self {
        case .answer: "answer"
        case .answerStaleNonce: "answerStaleNonce"
        case .credentialsRejected: "credentialsRejected"
        case .staleLoop: "staleLoop"
        }
    }
}

/// The client side of digest authentication for one account (RFC 3261 §22.2-22.4, RFC 7616
/// §3.4): answers challenges, keeps per-realm nonce, cnonce and nonce-count (nc=00000001,
/// 00000002, ... restarting at a new nonce), reuses credentials for later requests (RFC 3261
/// §22.3) and tells a wrong password from an expired nonce.
///
/// Use: on a 401/407, `DigestChallenge.preferred(fromHeaderValues:challenger:)`; if
/// `shouldRetry(after:)` for every challenge, add the `authorize` results (header `headerName`,
/// value `headerValue`) to the re-sent request (new CSeq). On any other final response to a
/// request that carried credentials, call `requestSucceeded()`.
public struct DigestSession {
    /// Changing the username or password forgets every pending verdict (the user fixed it).
    public var username: String {
        didSet { forgetVerdicts() }
    }
    public var password: String {
        didSet { forgetVerdicts() }
    }
    /// Makes a fresh client nonce; injectable so tests are deterministic.
    public var cnonceSource: () -> String
    /// stale=true answers in a row before `.staleLoop`.
    public var maximumStaleRetries = 3

    struct RealmState {
        var challenge: DigestChallenge
        var cnonce: String
        var nonceCount: UInt32
        /// Credentials answering a challenge were sent and no success has been seen since.
        var awaitingVerdict: Bool
        var staleRetries: Int
    }

    private(set) var realms: [RealmState] = []

    public init(
        username: String, password: String, cnonceSource: @escaping () -> String = DigestSession.randomCnonce
    ) {
        self.username = username
        self.password = password
        self.cnonceSource = cnonceSource
    }

    /// 16 bytes from getrandom(2) as 32 hex digits (falls back on the clocks if getrandom fails).
    public static func randomCnonce() -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        let filled = bytes.withUnsafeMutableBytes { buffer in cl_getrandom(buffer.baseAddress, buffer.count) }
        if filled != 16 {
            var hash = SHA256()
            hash.update(String(cl_realtime_ns()) + ":" + String(cl_monotonic_ns()))
            bytes = Array(hash.finalize().prefix(16))
        }
        return HashEncoding.lowercaseHex(bytes)
    }

    private func index(of challenge: DigestChallenge) -> Int? {
        realms.firstIndex { $0.challenge.realm == challenge.realm && $0.challenge.challenger == challenge.challenger }
    }

    /// What to do with `challenge` given what was sent before.
    public func retryDecision(after challenge: DigestChallenge) -> DigestRetryDecision {
        guard let index = index(of: challenge), realms[index].awaitingVerdict else {
            return .answer
        }
        guard challenge.stale else {
            return .credentialsRejected
        }
        return realms[index].staleRetries >= maximumStaleRetries ? .staleLoop : .answerStaleNonce
    }

    /// False when the challenge means the password is wrong (a second non-stale challenge for
    /// the same credentials) or the server loops on stale nonces.
    public func shouldRetry(after challenge: DigestChallenge) -> Bool {
        retryDecision(after: challenge).shouldRetry
    }

    /// True when every challenge of a 401/407 may be answered.
    public func shouldRetry(after challenges: [DigestChallenge]) -> Bool {
        !challenges.isEmpty && challenges.allSatisfy { shouldRetry(after: $0) }
    }

    /// Credentials answering `challenge` for a request (`method` such as "REGISTER", "INVITE",
    /// "BYE", "INFO"; `uri` the Request-URI text; `body` for auth-int). A new nonce gets a new
    /// cnonce and nc=00000001; the same nonce counts up.
    public mutating func authorize(
        _ challenge: DigestChallenge, method: String, uri: String, body: [UInt8] = []
    ) -> DigestCredentials {
        let decision = retryDecision(after: challenge)
        var state: RealmState
        if let index = index(of: challenge) {
            state = realms.remove(at: index)
            if state.challenge.nonce != challenge.nonce || state.challenge.algorithm != challenge.algorithm {
                state.cnonce = cnonceSource()
                state.nonceCount = 0
            }
            state.challenge = challenge
        } else {
            state = RealmState(
                challenge: challenge, cnonce: cnonceSource(), nonceCount: 0, awaitingVerdict: false, staleRetries: 0)
        }
        state.staleRetries = decision == .answerStaleNonce ? state.staleRetries + 1 : 0
        state.awaitingVerdict = true
        state.nonceCount &+= 1
        let credentials = DigestCredentials(
            answering: challenge, username: username, password: password, method: method, uri: uri, body: body,
            cnonce: state.cnonce, nonceCount: state.nonceCount)
        realms.append(state)
        return credentials
    }

    /// Credentials for every challenge of one 401/407, in order.
    public mutating func authorize(
        _ challenges: [DigestChallenge], method: String, uri: String, body: [UInt8] = []
    ) -> [DigestCredentials] {
        var result: [DigestCredentials] = []
        for challenge in challenges {
            result.append(authorize(challenge, method: method, uri: uri, body: body))
        }
        return result
    }

    /// Credentials for a new request from the cached challenges (RFC 3261 §22.3: a UA may
    /// reuse credentials within a realm), one per known realm, with the next nc. A server that
    /// no longer accepts the nonce challenges again and `retryDecision` says `.answer`.
    public mutating func cachedCredentials(method: String, uri: String, body: [UInt8] = []) -> [DigestCredentials] {
        var result: [DigestCredentials] = []
        for index in realms.indices {
            realms[index].nonceCount &+= 1
            result.append(
                DigestCredentials(
                    answering: realms[index].challenge, username: username, password: password, method: method,
                    uri: uri, body: body, cnonce: realms[index].cnonce, nonceCount: realms[index].nonceCount))
        }
        return result
    }

    /// A request carrying our credentials got a final response other than 401/407: the
    /// credentials work, so a later non-stale challenge means an expired nonce, not a bad password.
    public mutating func requestSucceeded() {
        forgetVerdicts()
    }

    /// The nc last used in `realm` (nil if never challenged there).
    public func nonceCount(realm: String, challenger: DigestChallenger = .server) -> UInt32? {
        realms.first { $0.challenge.realm == realm && $0.challenge.challenger == challenger }?.nonceCount
    }

    /// Forgets every cached challenge (e.g. after unregistering or changing server).
    public mutating func reset() {
        realms.removeAll()
    }

    private mutating func forgetVerdicts() {
        for index in realms.indices {
            realms[index].awaitingVerdict = false
            realms[index].staleRetries = 0
        }
    }
}
