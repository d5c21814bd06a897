import Testing

@testable import Digest

/// A cnonce source counting "cn1", "cn2", ... so tests see when a new cnonce is drawn.
final class DigestCountingCnonce {
    var drawn = 0

    func next() -> String {
        drawn += 1
        return "cn\(drawn)"
    }
}

@Suite("Digest session: nonce count, stale nonces, wrong passwords (RFC 3261 §22.3, RFC 7616 §3.3-3.4)")
struct DigestSessionTests {
    static let registrarNonce1 = "Digest realm=\"atlanta.com\", nonce=\"n1\", qop=\"auth\", algorithm=MD5"

    @Test("nc counts up per nonce and restarts at 00000001 with a new cnonce when the nonce changes")
    func nonceCount() throws {
        let cnonces = DigestCountingCnonce()
        var session = DigestSession(username: "alice", password: "secret", cnonceSource: { cnonces.next() })
        let first = try DigestChallenge.parse(Self.registrarNonce1)
        let a = session.authorize(first, method: "REGISTER", uri: "sip:atlanta.com")
        #expect(a.nonceCount == 1 && a.cnonce == "cn1")
        #expect(a.headerValue.hasSuffix("nc=00000001"))
        session.requestSucceeded()
        let b = try #require(session.cachedCredentials(method: "INVITE", uri: "sip:bob@biloxi.com").first)
        #expect(b.nonceCount == 2 && b.cnonce == "cn1" && b.nonce == "n1")
        #expect(b.headerValue.hasSuffix("nc=00000002"))
        #expect(b.verify(password: "secret", method: "INVITE"))
        let c = session.authorize(first, method: "BYE", uri: "sip:bob@192.0.2.4")
        #expect(c.nonceCount == 3 && c.cnonce == "cn1")
        #expect(session.nonceCount(realm: "atlanta.com") == 3)
        let second = try DigestChallenge.parse(Self.registrarNonce1.replacing("n1", with: "n2"))
        session.requestSucceeded()
        let d = session.authorize(second, method: "REGISTER", uri: "sip:atlanta.com")
        #expect(d.nonceCount == 1 && d.cnonce == "cn2" && d.nonce == "n2")
        #expect(cnonces.drawn == 2)
    }

    @Test("stale=true: retry with the new nonce; a second non-stale challenge means a wrong password")
    func retryPolicy() throws {
        var session = DigestSession(username: "alice", password: "wrong", cnonceSource: { "c" })
        let challenge = try DigestChallenge.parse(Self.registrarNonce1)
        #expect(session.retryDecision(after: challenge) == .answer)
        #expect(session.shouldRetry(after: challenge))
        _ = session.authorize(challenge, method: "REGISTER", uri: "sip:atlanta.com")

        // the registrar's nonce expired meanwhile: stale=true, same credentials again
        let stale = try DigestChallenge.parse(
            "Digest realm=\"atlanta.com\", nonce=\"n2\", qop=\"auth\", algorithm=MD5, stale=true")
        #expect(session.retryDecision(after: stale) == .answerStaleNonce)
        let retried = session.authorize(stale, method: "REGISTER", uri: "sip:atlanta.com")
        #expect(retried.nonce == "n2" && retried.nonceCount == 1)

        // challenged again without stale: the password is wrong, do not loop
        let again = try DigestChallenge.parse(Self.registrarNonce1.replacing("n1", with: "n3"))
        #expect(session.retryDecision(after: again) == .credentialsRejected)
        #expect(!session.shouldRetry(after: again))
        #expect(!session.shouldRetry(after: [again]))

        // the user types the right password: answering is allowed again
        session.password = "secret"
        #expect(session.retryDecision(after: again) == .answer)
        let fixed = session.authorize(again, method: "REGISTER", uri: "sip:atlanta.com")
        #expect(fixed.verify(password: "secret", method: "REGISTER"))
    }

    @Test("after a success, a later non-stale challenge is an expired nonce, not a wrong password")
    func afterSuccess() throws {
        var session = DigestSession(username: "alice", password: "secret", cnonceSource: { "c" })
        let challenge = try DigestChallenge.parse(Self.registrarNonce1)
        _ = session.authorize(challenge, method: "REGISTER", uri: "sip:atlanta.com")
        session.requestSucceeded()
        _ = session.cachedCredentials(method: "REGISTER", uri: "sip:atlanta.com")
        let fresh = try DigestChallenge.parse(Self.registrarNonce1.replacing("n1", with: "n9"))
        #expect(session.retryDecision(after: fresh) == .answer)
    }

    @Test("a server answering stale=true forever is given up on")
    func staleLoop() throws {
        var session = DigestSession(username: "alice", password: "secret", cnonceSource: { "c" })
        session.maximumStaleRetries = 2
        let challenge = try DigestChallenge.parse(Self.registrarNonce1)
        _ = session.authorize(challenge, method: "REGISTER", uri: "sip:atlanta.com")
        var decisions: [DigestRetryDecision] = []
        for index in 0..<3 {
            let stale = try DigestChallenge.parse(
                "Digest realm=\"atlanta.com\", nonce=\"s\(index)\", qop=\"auth\", stale=true")
            let decision = session.retryDecision(after: stale)
            decisions.append(decision)
            if decision.shouldRetry {
                _ = session.authorize(stale, method: "REGISTER", uri: "sip:atlanta.com")
            }
        }
        #expect(decisions == [.answerStaleNonce, .answerStaleNonce, .staleLoop])
    }

    @Test("a 407 from two proxies: one Proxy-Authorization per realm, each with its own nc")
    func twoRealms() throws {
        var session = DigestSession(username: "alice", password: "secret", cnonceSource: { "c" })
        let challenges = try DigestChallenge.preferred(
            fromHeaderValues: [
                "Digest realm=\"atlanta.com\", nonce=\"a1\", qop=\"auth\"",
                "Digest realm=\"biloxi.com\", nonce=\"b1\", qop=\"auth\", algorithm=SHA-256",
            ], challenger: .proxy)
        #expect(session.shouldRetry(after: challenges))
        let answers = session.authorize(challenges, method: "INVITE", uri: "sip:bob@biloxi.com")
        #expect(answers.map(\.realm) == ["atlanta.com", "biloxi.com"])
        #expect(answers.allSatisfy { $0.headerName == "Proxy-Authorization" && $0.nonceCount == 1 })
        #expect(answers[1].algorithm == .sha256)
        let next = session.cachedCredentials(method: "BYE", uri: "sip:bob@192.0.2.4")
        #expect(next.map(\.nonceCount) == [2, 2])
        #expect(session.nonceCount(realm: "biloxi.com", challenger: .proxy) == 2)
        #expect(session.nonceCount(realm: "biloxi.com", challenger: .server) == nil)
        session.reset()
        #expect(session.cachedCredentials(method: "BYE", uri: "sip:bob@192.0.2.4").isEmpty)
    }

    @Test("the default cnonce is 32 random hex digits")
    func randomCnonce() {
        let first = DigestSession.randomCnonce()
        let second = DigestSession.randomCnonce()
        #expect(first.utf8.count == 32 && DigestSyntax.isHex(first))
        #expect(first != second)
    }
}
