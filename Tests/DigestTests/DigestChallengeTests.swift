import Testing

@testable import Digest

/// Parses and expects success, recording the error text otherwise.
func digestChallenge(_ text: String, challenger: DigestChallenger = .server) -> DigestChallenge? {
    do throws(DigestError) {
        return try DigestChallenge.parse(text, challenger: challenger)
    } catch {
        Issue.record("unexpected DigestError: \(error.message)")
        return nil
    }
}

/// The error of a parse that must fail (nil if it succeeded).
func digestChallengeError(_ text: String) -> DigestError? {
    do throws(DigestError) {
        _ = try DigestChallenge.parseList(text)
        return nil
    } catch {
        return error
    }
}

@Suite("Digest challenges (RFC 3261 §22.4, RFC 7616 §3.3, RFC 8760)")
struct DigestChallengeTests {
    @Test("the RFC 2617 §3.5 challenge")
    func rfc2617() throws {
        let challenge = try #require(
            digestChallenge(
                """
                Digest realm="testrealm@host.com", qop="auth,auth-int", \
                nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"
                """))
        #expect(challenge.realm == "testrealm@host.com")
        #expect(challenge.nonce == "dcd98b7102dd2f0e8b11d0f600bfb0c093")
        #expect(challenge.opaque == "5ccc069c403ebaf9f0171e9517f40e41")
        #expect(challenge.qopOptions == [.auth, .authInt])
        #expect(challenge.algorithm == .md5)
        #expect(!challenge.algorithmWasSpecified)
        #expect(!challenge.stale)
        #expect(challenge.challenger == .server)
    }

    @Test("a SIP proxy challenge with unquoted algorithm, stale and domain")
    func sipProxyChallenge() throws {
        let challenge = try #require(
            digestChallenge(
                "Digest realm=\"atlanta.com\", domain=\"sip:ss1.carrier.com\", qop=\"auth\", "
                    + "nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE, algorithm=MD5",
                challenger: .proxy))
        #expect(challenge.realm == "atlanta.com")
        #expect(challenge.domain == "sip:ss1.carrier.com")
        #expect(challenge.opaque == "")
        #expect(challenge.algorithm == .md5 && challenge.algorithmWasSpecified)
        #expect(!challenge.stale)
        #expect(challenge.challenger == .proxy)
        #expect(challenge.challenger.credentialsHeaderName == "Proxy-Authorization")
        #expect(DigestChallenger(status: 401)?.credentialsHeaderName == "Authorization")
        #expect(DigestChallenger(status: 407) == .proxy)
        #expect(DigestChallenger(status: 403) == nil)
    }

    @Test("names, scheme, algorithm and stale are case-insensitive; algorithm may be quoted")
    func caseInsensitive() throws {
        let challenge = try #require(
            digestChallenge("dIgEsT REALM=\"r\", Nonce=\"n\", ALGORITHM=\"sha-256-SESS\", Stale=TRUE, QOP=\"AUTH\""))
        #expect(challenge.realm == "r" && challenge.nonce == "n")
        #expect(challenge.algorithm == .sha256Session)
        #expect(challenge.stale)
        #expect(challenge.qopOptions == [.auth])
        #expect(digestChallenge("Digest realm=r, nonce=n, stale=true")?.stale == true)
        #expect(digestChallenge("Digest realm=r, nonce=n, stale=yes")?.stale == false)
        #expect(digestChallenge("Digest realm=r, nonce=n, algorithm=SHA-512-256")?.algorithm == .sha512_256)
        #expect(digestChallenge("Digest realm=r, nonce=n, algorithm=md5-sess")?.algorithm == .md5Session)
    }

    @Test("LWS anywhere RFC 3261 §25 allows it, including folded lines")
    func whitespace() throws {
        let challenge = try #require(
            digestChallenge(" \tDigest   realm = \"a b\" ,\r\n nonce\t=\t\"x\"  ,  ,opaque=\"o\r\n\tp\" \t"))
        #expect(challenge.realm == "a b")
        #expect(challenge.nonce == "x")
        #expect(challenge.opaque == "o p")
    }

    @Test("escaped quotes and backslashes in quoted strings; unknown parameters ignored")
    func escapesAndUnknown() throws {
        let challenge = try #require(
            digestChallenge(
                #"Digest realm="say \"hi\" \\ bye", nonce="n", charset=UTF-8, x-vendor="ok", algorithm=SHA-256"#))
        #expect(challenge.realm == #"say "hi" \ bye"#)
        #expect(challenge.algorithm == .sha256)
        #expect(challenge.qopOptions.isEmpty)
        // unknown qop values next to a known one are ignored too
        #expect(digestChallenge("Digest realm=r, nonce=n, qop=\"auth-conf, auth\"")?.qopOptions == [.auth])
    }

    @Test("serializing and parsing again gives the same challenge")
    func roundTrip() throws {
        let original = DigestChallenge(
            realm: #"we"ird\realm"#, nonce: "abc/def+==", opaque: "o", algorithm: .sha512_256Session,
            qopOptions: [.authInt, .auth], stale: true, domain: "sip:a.example sip:b.example", userhash: true,
            challenger: .proxy)
        let parsed = try #require(digestChallenge(original.headerValue, challenger: .proxy))
        #expect(parsed == original)
        #expect(original.description.hasPrefix("Proxy-Authenticate: Digest realm=\"we\\\"ird\\\\realm\""))
    }

    @Test("several challenges in one value; other schemes are skipped")
    func challengeList() throws {
        let list = try DigestChallenge.parseList(
            "Basic realm=\"b\", Digest realm=\"r\", nonce=\"1\", algorithm=MD5, "
                + "Negotiate abc/def==, Digest realm=\"r\", nonce=\"2\", algorithm=SHA-256, Bearer")
        #expect(list.map(\.nonce) == ["1", "2"])
        #expect(list.map(\.algorithm) == [.md5, .sha256])
        #expect(try DigestChallenge.parse("Basic realm=\"b\", Digest realm=\"r\", nonce=\"1\"").nonce == "1")
    }

    @Test("the strongest supported algorithm is chosen per realm, in first-seen realm order")
    func preferred() throws {
        let chosen = try DigestChallenge.preferred(
            fromHeaderValues: [
                "Digest realm=\"atlanta.com\", nonce=\"m\", algorithm=MD5, qop=\"auth\"",
                "Digest realm=\"atlanta.com\", nonce=\"s\", algorithm=SHA-256, qop=\"auth\"",
                "Digest realm=\"biloxi.com\", nonce=\"b\"",
                "Digest realm=\"atlanta.com\", nonce=\"x\", algorithm=AKAv1-MD5",
                "Digest realm=\"atlanta.com\", nonce=\"t\", algorithm=SHA-256-sess",
                "Basic realm=\"atlanta.com\"",
                "Digest realm=\"broken",
            ], challenger: .proxy)
        #expect(chosen.map(\.realm) == ["atlanta.com", "biloxi.com"])
        #expect(chosen.map(\.nonce) == ["s", "b"])
        #expect(chosen.allSatisfy { $0.challenger == .proxy })
        let strongest = try DigestChallenge.preferred(fromHeaderValues: [
            "Digest realm=r, nonce=a, algorithm=SHA-256", "Digest realm=r, nonce=b, algorithm=SHA-512-256",
        ])
        #expect(strongest.map(\.nonce) == ["b"])
    }

    @Test("preferred() reports why nothing is usable")
    func preferredFails() {
        #expect(throws: DigestError.self) { try DigestChallenge.preferred(fromHeaderValues: []) }
        do throws(DigestError) {
            _ = try DigestChallenge.preferred(
                fromHeaderValues: ["Basic realm=x", "Digest realm=r, nonce=n, algorithm=X"])
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .unsupportedScheme)
        }
    }

    @Test(
        "malformed or unusable challenges give a precise DigestError",
        arguments: [
            ("", DigestError.Kind.empty),
            ("  ,  ", .empty),
            ("Digest realm=\"r\", nonce=\"abc", .syntax),
            ("Digest realm=\"r\", nonce=\"abc\\", .syntax),
            ("Digest realm=\"r\"", .missingParameter),
            ("Digest nonce=\"n\"", .missingParameter),
            ("Digest", .missingParameter),
            ("Digest realm=\"a\", realm=\"b\", nonce=\"n\"", .duplicateParameter),
            ("Digest realm=\"a\", NONCE=\"n\", nonce=\"n\"", .duplicateParameter),
            ("Basic realm=\"x\"", .unsupportedScheme),
            ("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-1", .unsupportedAlgorithm),
            ("Digest realm=\"r\", nonce=\"n\", algorithm=AKAv1-MD5", .unsupportedAlgorithm),
            ("Digest realm=\"r\", nonce=\"n\", qop=\"auth-conf\"", .unsupportedQop),
            ("Digest realm=\"r\", nonce=\"n\", qop=\"\"", .unsupportedQop),
            ("Digest realm=\"r\" nonce=\"n\"", .syntax),
            ("Digest realm=, nonce=\"n\"", .syntax),
            ("Digest realm \"r\", nonce=\"n\"", .syntax),
            ("Digestrealm=\"r\"", .syntax),
            ("Digest realm=\"r\",\r\nnonce=\"n\"", .syntax),
            ("Digest realm=\"r\u{0}\", nonce=\"n\"", .syntax),
            ("Digest realm=r/s, nonce=n", .syntax),
            ("\"Digest\" realm=r", .syntax),
            ("Digest realm=\"\u{FFFD}\u{1}\", nonce=n", .syntax),
            ("Digest ===", .syntax),
        ])
    func malformed(_ text: String, _ kind: DigestError.Kind) throws {
        let error = try #require(digestChallengeError(text))
        #expect(error.kind == kind, "\(text): \(error.message)")
        #expect(!error.message.isEmpty && !error.message.contains("\n"))
        #expect(error.description == error.message)
    }

    @Test("error messages name the parameter and the byte offset")
    func messages() throws {
        let unterminated = try #require(digestChallengeError("Digest realm=\"r\", nonce=\"abc"))
        #expect(unterminated.message == "unterminated quoted string for 'nonce' starting at byte 24")
        let duplicate = try #require(digestChallengeError("Digest realm=\"a\", realm=\"b\", nonce=\"n\""))
        #expect(duplicate.message == "parameter 'realm' appears twice (bytes 7 and 18)")
        let missing = try #require(digestChallengeError("Digest realm=\"r\""))
        #expect(missing.message == "Digest challenge without 'nonce'")
        let comma = try #require(digestChallengeError("Digest realm=\"r\" nonce=\"n\""))
        #expect(comma.message == "expected ',' between parameters, found 'n' at byte 17")
    }

    @Test("very long values and too many parameters are refused, not parsed")
    func limits() throws {
        let longNonce = String(repeating: "a", count: 5000)
        #expect(digestChallengeError("Digest realm=\"r\", nonce=\"" + longNonce + "\"")?.kind == .tooLong)
        #expect(digestChallengeError("Digest realm=\"r\", nonce=" + longNonce)?.kind == .tooLong)
        let huge = "Digest realm=\"r\", nonce=\"n\"" + String(repeating: ", x=\"y\"", count: 4000)
        #expect(digestChallengeError(huge)?.kind == .tooLong)
        var many = "Digest realm=\"r\", nonce=\"n\""
        for index in 0..<40 {
            many += ", p\(index)=v"
        }
        #expect(digestChallengeError(many)?.kind == .tooLong)
        let nonce = String(repeating: "b", count: 4000)
        #expect(digestChallenge("Digest realm=\"r\", nonce=\"" + nonce + "\"")?.nonce == nonce)
    }

    @Test("garbage bytes through the fuzz entry never trap")
    func garbage() {
        var generator = DigestTestRandom(seed: 0x5eed)
        let alphabet = Array("Digest realm=\"nonce, qop=auth-int\\\r\n\t algorithm=SHA-256-sess stale=true".utf8)
        for round in 0..<3000 {
            let count = generator.next() % 120
            var bytes: [UInt8] = []
            for _ in 0..<count {
                let pick = generator.next()
                bytes.append(round % 2 == 0 ? UInt8(truncatingIfNeeded: pick) : alphabet[pick % alphabet.count])
            }
            bytes.withUnsafeBytes { digestFuzzEntry($0) }
            _ = try? DigestChallenge.parseList(String(decoding: bytes, as: UTF8.self))
        }
        let valid = Array(
            "Digest realm=\"r\", nonce=\"n\", qop=\"auth,auth-int\", algorithm=MD5-sess, opaque=\"o\"".utf8)
        for cut in 0...valid.count {
            Array(valid[0..<cut]).withUnsafeBytes { digestFuzzEntry($0) }
        }
    }
}

/// A small deterministic generator (xorshift64*) for the garbage tests.
struct DigestTestRandom {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> Int {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return Int(truncatingIfNeeded: (state &* 2_685_821_657_736_338_717) >> 33)
    }
}
