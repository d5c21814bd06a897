/// Fuzzing entry for the digest parsers: feeds arbitrary bytes (decoded as UTF-8 with
/// replacement, as a header value would be) to the challenge and credentials parsers and
/// drives whatever parses through serialization, re-parsing, answering and verification.
/// Must never trap, whatever the bytes.
public func digestFuzzEntry(_ bytes: UnsafeRawBufferPointer) {
    let text = String(decoding: bytes, as: UTF8.self)
    if let challenges = try? DigestChallenge.parseList(text, challenger: .proxy) {
        var session = DigestSession(username: "fuzz\"user\\", password: "secret", cnonceSource: { "0a4f113b" })
        for challenge in challenges {
            _ = try? DigestChallenge.parse(challenge.headerValue, challenger: .proxy)
            _ = session.retryDecision(after: challenge)
            let credentials = session.authorize(challenge, method: "INVITE", uri: "sip:bob@example.com", body: [1, 2])
            if let parsed = try? DigestCredentials.parse(credentials.headerValue) {
                _ = parsed.verify(password: "secret", method: "INVITE", body: [1, 2], plainUsername: "fuzz\"user\\")
            }
        }
        _ = session.cachedCredentials(method: "BYE", uri: "sip:bob@example.com")
    }
    _ = try? DigestChallenge.preferred(fromHeaderValues: [text, text])
    if let credentials = try? DigestCredentials.parse(text) {
        _ = credentials.verify(password: "secret", method: "REGISTER")
        _ = try? DigestCredentials.parse(credentials.headerValue)
    }
}
