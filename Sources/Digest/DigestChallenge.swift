/// A Digest challenge from a WWW-Authenticate (401) or Proxy-Authenticate (407) header value
/// (RFC 3261 §22.4 and §25.1 `digest-cln`, RFC 7616 §3.3, RFC 8760 §2).
public struct DigestChallenge: Equatable, CustomStringConvertible {
    /// Who challenged (decides the header name of the answer).
    public var challenger: DigestChallenger
    public var realm: String
    public var nonce: String
    /// Echoed back unchanged in the credentials.
    public var opaque: String?
    /// MD5 when the challenge names none (RFC 7616 §3.3).
    public var algorithm: DigestAlgorithm
    /// Whether the challenge named its algorithm: the answer names it only then (RFC 7616 §3.4
    /// asks for the challenge's value; some servers reject an algorithm they did not send).
    public var algorithmWasSpecified: Bool
    /// The offered qop values we support, in the server's order; empty means the server sent
    /// no qop (RFC 2069 compatibility: response = H(HA1:nonce:HA2), no cnonce, no nc).
    public var qopOptions: [DigestQop]
    /// stale=true: the nonce expired but the credentials were right (RFC 7616 §3.3); retry with
    /// the new nonce without asking the user.
    public var stale: Bool
    /// The protection space URIs, as sent (space-separated list), if any.
    public var domain: String?
    /// userhash=true (RFC 7616 §3.4.4): the username is sent as H(username:realm).
    public var userhash: Bool

    public init(
        realm: String, nonce: String, opaque: String? = nil, algorithm: DigestAlgorithm = .md5,
        algorithmWasSpecified: Bool = true, qopOptions: [DigestQop] = [.auth], stale: Bool = false,
        domain: String? = nil, userhash: Bool = false, challenger: DigestChallenger = .server
    ) {
        self.challenger = challenger
        self.realm = realm
        self.nonce = nonce
        self.opaque = opaque
        self.algorithm = algorithm
        self.algorithmWasSpecified = algorithmWasSpecified
        self.qopOptions = qopOptions
        self.stale = stale
        self.domain = domain
        self.userhash = userhash
    }

    /// The first usable Digest challenge in one header value. Errors: `.empty`, `.syntax`,
    /// `.tooLong`, `.unsupportedScheme` (no Digest challenge), or the reason the Digest
    /// challenge is unusable (`.missingParameter`, `.duplicateParameter`, `.unsupportedAlgorithm`,
    /// `.unsupportedQop`, `.invalidParameter`).
    public static func parse(
        _ value: String, challenger: DigestChallenger = .server
    ) throws(DigestError) -> DigestChallenge {
        let list = try parseList(value, challenger: challenger)
        return list[0]
    }

    /// Every usable Digest challenge in one header value, in order (some stacks put several
    /// comma-separated challenges in one header line). Other schemes and Digest challenges with
    /// an unsupported algorithm are skipped; if none is left, the first reason is thrown.
    public static func parseList(
        _ value: String, challenger: DigestChallenger = .server
    ) throws(DigestError) -> [DigestChallenge] {
        let raw = try DigestScanner.challenges(in: value)
        var result: [DigestChallenge] = []
        var firstError: DigestError? = nil
        var otherSchemes: [String] = []
        for candidate in raw {
            guard candidate.isDigest else {
                otherSchemes.append(candidate.scheme)
                continue
            }
            do throws(DigestError) {
                result.append(try DigestChallenge(candidate, challenger: challenger))
            } catch {
                if firstError == nil {
                    firstError = error
                }
            }
        }
        if result.isEmpty {
            if let firstError {
                throw firstError
            }
            var names = ""
            for scheme in otherSchemes {
                names += (names.isEmpty ? "" : ", ") + scheme
            }
            throw DigestError(.unsupportedScheme, "no Digest challenge (only " + names + ")")
        }
        return result
    }

    /// The challenges to answer for a 401/407 carrying these WWW-Authenticate or
    /// Proxy-Authenticate header values: one per realm (a forking proxy chain may challenge in
    /// several realms, RFC 3261 §22.3), in order of first appearance, each the strongest
    /// algorithm offered for that realm (SHA-512-256 over SHA-256 over MD5; RFC 8760 §2.4 has
    /// servers list the preferred first, taking the strongest also resists a reordered list).
    /// Unusable values are skipped; if nothing is usable the first reason is thrown.
    public static func preferred(
        fromHeaderValues values: [String], challenger: DigestChallenger = .server
    ) throws(DigestError) -> [DigestChallenge] {
        var chosen: [DigestChallenge] = []
        var firstError: DigestError? = nil
        for value in values {
            do throws(DigestError) {
                for challenge in try parseList(value, challenger: challenger) {
                    if let index = chosen.firstIndex(where: { $0.realm == challenge.realm }) {
                        if challenge.algorithm.strength > chosen[index].algorithm.strength {
                            chosen[index] = challenge
                        }
                    } else {
                        chosen.append(challenge)
                    }
                }
            } catch {
                if firstError == nil {
                    firstError = error
                }
            }
        }
        if chosen.isEmpty {
            throw firstError ?? DigestError(.empty, "no " + challenger.challengeHeaderName + " header")
        }
        return chosen
    }

    /// Interprets one raw Digest challenge.
    init(_ raw: DigestRawChallenge, challenger: DigestChallenger) throws(DigestError) {
        let parameters = try raw.uniqueParameters()
        guard let realm = parameters["realm"] else {
            throw DigestError(.missingParameter, "Digest challenge without 'realm'")
        }
        guard let nonce = parameters["nonce"] else {
            throw DigestError(.missingParameter, "Digest challenge without 'nonce'")
        }
        var algorithm = DigestAlgorithm.md5
        if let token = parameters["algorithm"] {
            guard let known = DigestAlgorithm(token: token.value) else {
                throw DigestError(
                    .unsupportedAlgorithm,
                    "algorithm '" + token.value + "' is not supported (MD5, SHA-256, SHA-512-256 and -sess are)")
            }
            algorithm = known
        }
        var qopOptions: [DigestQop] = []
        if let qop = parameters["qop"] {
            for option in DigestChallenge.commaSeparatedTokens(qop.value) {
                if let known = DigestQop(token: option), !qopOptions.contains(known) {
                    qopOptions.append(known)
                }
            }
            if qopOptions.isEmpty {
                throw DigestError(.unsupportedQop, "qop '" + qop.value + "' offers neither auth nor auth-int")
            }
        }
        self.init(
            realm: realm.value, nonce: nonce.value, opaque: parameters["opaque"]?.value, algorithm: algorithm,
            algorithmWasSpecified: parameters["algorithm"] != nil, qopOptions: qopOptions,
            stale: DigestSyntax.lowercased(parameters["stale"]?.value ?? "") == "true",
            domain: parameters["domain"]?.value,
            userhash: DigestSyntax.lowercased(parameters["userhash"]?.value ?? "") == "true",
            challenger: challenger)
    }

    /// The tokens of a quoted comma-separated list such as `auth, auth-int` (whitespace trimmed,
    /// empty elements dropped).
    static func commaSeparatedTokens(_ text: String) -> [String] {
        var result: [String] = []
        var current: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case 0x2c:
                if !current.isEmpty {
                    result.append(String(decoding: current, as: UTF8.self))
                }
                current.removeAll()
            case 0x20, 0x09, 0x0d, 0x0a:
                continue
            default:
                current.append(byte)
            }
        }
        if !current.isEmpty {
            result.append(String(decoding: current, as: UTF8.self))
        }
        return result
    }

    /// The header value a server sends (for our test registrar and round trips):
    /// `Digest realm="..", nonce="..", opaque="..", algorithm=.., qop="auth,auth-int", stale=true`.
    public var headerValue: String {
        var text = "Digest realm=" + DigestSyntax.quoted(realm)
        if let domain {
            text += ", domain=" + DigestSyntax.quoted(domain)
        }
        text += ", nonce=" + DigestSyntax.quoted(nonce)
        if let opaque {
            text += ", opaque=" + DigestSyntax.quoted(opaque)
        }
        if algorithmWasSpecified {
            text += ", algorithm=" + algorithm.token
        }
        if !qopOptions.isEmpty {
            var options = ""
            for option in qopOptions {
                options += (options.isEmpty ? "" : ",") + option.token
            }
            text += ", qop=" + DigestSyntax.quoted(options)
        }
        if stale {
            text += ", stale=true"
        }
        if userhash {
            text += ", userhash=true"
        }
        return text
    }

    public var description: String {
        challenger.challengeHeaderName + ": " + headerValue
    }
}
