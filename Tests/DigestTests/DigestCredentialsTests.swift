import Testing

@testable import Digest

/// The RFC 2617 §3.5 challenge, with the algorithm replaced if asked.
func rfc2617Challenge(algorithm: DigestAlgorithm? = nil, qop: [DigestQop] = [.auth, .authInt]) -> DigestChallenge {
    DigestChallenge(
        realm: "testrealm@host.com", nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        opaque: "5ccc069c403ebaf9f0171e9517f40e41", algorithm: algorithm ?? .md5,
        algorithmWasSpecified: algorithm != nil, qopOptions: qop)
}

/// Parses credentials and expects success.
func digestCredentials(_ text: String) -> DigestCredentials? {
    do throws(DigestError) {
        return try DigestCredentials.parse(text)
    } catch {
        Issue.record("unexpected DigestError: \(error.message)")
        return nil
    }
}

@Suite("Digest credentials (RFC 2617 §3.5, RFC 7616 §3.4 and §3.9.1, RFC 3261 §22.4)")
struct DigestCredentialsTests {
    @Test("RFC 2617 §3.5: Mufasa / Circle Of Life gives 6629fae4...")
    func rfc2617Example() throws {
        let credentials = DigestCredentials(
            answering: rfc2617Challenge(), username: "Mufasa", password: "Circle Of Life", method: "GET",
            uri: "/dir/index.html", cnonce: "0a4f113b", nonceCount: 1)
        #expect(credentials.response == "6629fae49393a05397450978507c4ef1")
        #expect(credentials.qop == .auth)
        #expect(
            credentials.headerValue
                == "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
                + "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
                + "response=\"6629fae49393a05397450978507c4ef1\", cnonce=\"0a4f113b\", "
                + "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", qop=auth, nc=00000001")
        #expect(credentials.headerName == "Authorization")
    }

    @Test("RFC 7616 §3.9.1 for MD5 and SHA-256 (password 'Circle of Life', erratum 4495)")
    func rfc7616Example() throws {
        let header =
            "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=%ALG%, "
            + "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
            + "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
        let expected = [
            ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
            ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
        ]
        for (algorithm, response) in expected {
            let challenge = try DigestChallenge.parse(header.replacing("%ALG%", with: algorithm))
            let credentials = DigestCredentials(
                answering: challenge, username: "Mufasa", password: "Circle of Life", method: "GET",
                uri: "/dir/index.html", cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", nonceCount: 1)
            #expect(credentials.response == response)
            #expect(credentials.headerValue.contains(", algorithm=" + algorithm + ", "))
            #expect(credentials.headerValue.contains(", opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""))
            let parsed = try #require(digestCredentials(credentials.headerValue))
            #expect(parsed == credentials)
            #expect(parsed.verify(password: "Circle of Life", method: "GET"))
            #expect(!parsed.verify(password: "Circle Of Life", method: "GET"))
        }
    }

    @Test("RFC 2069 compatibility: no qop means no cnonce, no nc, response = H(HA1:nonce:HA2)")
    func noQop() throws {
        let challenge = rfc2617Challenge(qop: [])
        let credentials = DigestCredentials(
            answering: challenge, username: "Mufasa", password: "CircleOfLife", method: "GET",
            uri: "/dir/index.html", cnonce: "unused", nonceCount: 7)
        #expect(credentials.response == "1949323746fe6a43ef61f9606e7febea")
        #expect(credentials.cnonce == nil && credentials.nonceCount == nil && credentials.qop == nil)
        #expect(!credentials.headerValue.contains("cnonce") && !credentials.headerValue.contains("nc="))
        // A SIP REGISTER answered the RFC 3261 way (computed with python3 hashlib).
        let register = try DigestChallenge.parse(
            "Digest realm=\"atlanta.com\", nonce=\"84a4cc6f3082121f32b42a2187831a9e\"")
        let answer = DigestCredentials(
            answering: register, username: "alice", password: "secret", method: "REGISTER", uri: "sip:atlanta.com",
            cnonce: "x", nonceCount: 1)
        #expect(answer.response == "0534730df9b76ff85088704104e68f4d")
        #expect(!answer.headerValue.contains("algorithm"))
    }

    @Test("-sess algorithms hash nonce and cnonce into HA1; SHA-512-256; auth-int hashes the body")
    func variants() {
        let cases: [(DigestAlgorithm, [DigestQop], String)] = [
            (.md5Session, [.auth], "8e3825c57e897f5a0dec6c2d4e5059d0"),
            (.sha256Session, [.auth], "b8822e12417cb7750f4e2b8515f0dcf25b7dd26993e80bee1426201446a7f59b"),
            (.sha512_256, [.auth], "f23c08ec7334a881f8286e68450ddbd9f0cd91c41481f0e1433604da8113c6dc"),
            (.md5, [.authInt], "151b6cabb7e59e0ac757207a039ff3d0"),
        ]
        for (algorithm, qop, response) in cases {
            let credentials = DigestCredentials(
                answering: rfc2617Challenge(algorithm: algorithm, qop: qop), username: "Mufasa",
                password: "Circle Of Life", method: "GET", uri: "/dir/index.html", body: Array("v=0\r\n".utf8),
                cnonce: "0a4f113b", nonceCount: 1)
            #expect(credentials.response == response, "\(algorithm.token)")
            #expect(credentials.headerValue.contains("algorithm=" + algorithm.token + ","))
            #expect(credentials.verify(password: "Circle Of Life", method: "GET", body: Array("v=0\r\n".utf8)))
            if qop == [.authInt] {
                #expect(credentials.qop == .authInt && credentials.headerValue.contains("qop=auth-int"))
                #expect(!credentials.verify(password: "Circle Of Life", method: "GET", body: Array("v=1\r\n".utf8)))
            }
        }
    }

    @Test("SIP methods and URIs: INVITE with SHA-256, BYE at nc=3, INFO")
    func sipMethods() throws {
        let invite = DigestCredentials(
            answering: DigestChallenge(
                realm: "atlanta.com", nonce: "84a4cc6f3082121f32b42a2187831a9e", algorithm: .sha256,
                challenger: .proxy),
            username: "alice", password: "secret", method: "INVITE", uri: "sip:bob@biloxi.com", cnonce: "abc",
            nonceCount: 1)
        #expect(invite.response == "e98b9fe6625461441dcc14c740c721c07ea111deecb4c8b878a7813513a1b8b2")
        #expect(invite.headerName == "Proxy-Authorization")
        #expect(invite.description.hasPrefix("Proxy-Authorization: Digest username=\"alice\""))
        let challenge = DigestChallenge(realm: "atlanta.com", nonce: "84a4cc6f3082121f32b42a2187831a9e")
        let bye = DigestCredentials(
            answering: challenge, username: "alice", password: "secret", method: "BYE", uri: "sip:bob@192.0.2.4",
            cnonce: "c1", nonceCount: 3)
        #expect(bye.response == "6207e1f51b017afe29d66c23c6260126")
        #expect(bye.headerValue.hasSuffix("qop=auth, nc=00000003"))
        let info = DigestCredentials(
            answering: challenge, username: "alice", password: "secret", method: "INFO", uri: "sip:bob@192.0.2.4",
            cnonce: "c1", nonceCount: 1)
        #expect(info.response == "be5a69dac8ee252151737b355bd24c85")
    }

    @Test("quotes and backslashes in username and realm are escaped and survive a round trip")
    func escaping() throws {
        let challenge = try DigestChallenge.parse(#"Digest realm="r\"e\\alm", nonce="n", qop="auth""#)
        #expect(challenge.realm == #"r"e\alm"#)
        let credentials = DigestCredentials(
            answering: challenge, username: #"a"b\c"#, password: "p", method: "INVITE", uri: "sip:x@y",
            cnonce: "c", nonceCount: 1)
        #expect(credentials.response == "0b9a3d22a212230a3ed234a7fc171829")
        #expect(credentials.headerValue.hasPrefix(#"Digest username="a\"b\\c", realm="r\"e\\alm""#))
        let parsed = try #require(digestCredentials(credentials.headerValue))
        #expect(parsed.username == #"a"b\c"#)
        #expect(parsed == credentials)
        #expect(parsed.verify(password: "p", method: "INVITE"))
        #expect(!parsed.verify(password: "p", method: "BYE"))
    }

    @Test("userhash sends H(username:realm) and the server checks it")
    func userhash() throws {
        let challenge = DigestChallenge(realm: "atlanta.com", nonce: "n", algorithm: .sha256, userhash: true)
        let credentials = DigestCredentials(
            answering: challenge, username: "alice", password: "secret", method: "REGISTER",
            uri: "sip:atlanta.com", cnonce: "c", nonceCount: 1)
        #expect(credentials.username == "45fabae1c3f0485092e19fd9549658747e4e19aff755d1655950569c35b16d70")
        #expect(credentials.headerValue.hasSuffix(", userhash=true"))
        let parsed = try #require(digestCredentials(credentials.headerValue))
        #expect(parsed.userhash)
        #expect(parsed.verify(password: "secret", method: "REGISTER", plainUsername: "alice"))
        #expect(!parsed.verify(password: "secret", method: "REGISTER", plainUsername: "bob"))
    }

    @Test("server-side parse of a hand-written Authorization value (quoted qop and nc accepted)")
    func serverParse() throws {
        let parsed = try #require(
            digestCredentials(
                "Digest username=\"Mufasa\",realm=\"testrealm@host.com\",nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\","
                    + "uri=\"/dir/index.html\",qop=\"auth\",nc=\"00000001\",cnonce=\"0a4f113b\","
                    + "response=\"6629FAE49393A05397450978507C4EF1\",opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""))
        #expect(parsed.nonceCount == 1 && parsed.qop == .auth && parsed.cnonce == "0a4f113b")
        #expect(parsed.response == "6629fae49393a05397450978507c4ef1")
        #expect(parsed.verify(password: "Circle Of Life", method: "GET"))
        #expect(!parsed.verify(password: "Circle Of Lie", method: "GET"))
        #expect(DigestCredentials.nonceCountText(0x1a2b) == "00001a2b")
    }

    @Test(
        "malformed credentials give a DigestError",
        arguments: [
            ("", DigestError.Kind.empty),
            ("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", .unsupportedScheme),
            ("Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"s\"", .missingParameter),
            ("Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"s\", response=\"xyz\"", .invalidParameter),
            (
                "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"s\", "
                    + "response=\"6629fae49393a05397450978507c4ef1\", qop=auth, cnonce=\"c\"", .missingParameter
            ),
            (
                "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"s\", "
                    + "response=\"6629fae49393a05397450978507c4ef1\", qop=auth, cnonce=\"c\", nc=1", .invalidParameter
            ),
            (
                "Digest username=\"u\", username=\"v\", realm=\"r\", nonce=\"n\", uri=\"s\", "
                    + "response=\"6629fae49393a05397450978507c4ef1\"", .duplicateParameter
            ),
            (
                "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"s\", "
                    + "response=\"6629fae49393a05397450978507c4ef1\", algorithm=SHA-256", .invalidParameter
            ),
            ("Digest username=\"u, realm=\"r\"", .syntax),
            ("Digest username=\"u\", Digest username=\"v\"", .syntax),
        ])
    func malformed(_ text: String, _ kind: DigestError.Kind) {
        do throws(DigestError) {
            _ = try DigestCredentials.parse(text)
            Issue.record("parsed: \(text)")
        } catch {
            #expect(error.kind == kind, "\(text): \(error.message)")
        }
    }
}
