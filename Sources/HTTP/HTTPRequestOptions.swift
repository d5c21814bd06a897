import Digest
import Net

/// How one GET differs from the plain URL-record request: extra header fields (credentials,
/// conditional-request validators), redirects to follow, a body size limit. Provisioning uses
/// it; URL record sends the defaults (no extra fields, redirects not followed, 64 KiB).
public struct HTTPRequestOptions {
    /// Extra header fields, in order; control characters in names and values are dropped, so no
    /// configured value can add a line to the request.
    public var headers: [(name: String, value: String)] = []
    /// How many redirects (301, 302, 303, 307, 308 with a `Location`) to follow; 0: none, the
    /// 3xx is the result.
    public var maximumRedirects = 0
    /// The largest body accepted; a larger one fails the request ("response body larger than ...").
    public var maximumBodyBytes = 64 * 1024
    /// The user name and password answering a 401 (once: a second 401 fails the request with
    /// "authentication refused"); nil: a 401 is the result. Not sent before a challenge, nor to
    /// another scheme, host or port after a redirect.
    public var credentials: HTTPCredentials? = nil

    public init() {}

    /// `Authorization: Basic ...` for `user` and `password` (RFC 7617 §2: base64 of `user:password`).
    public static func basicAuthorization(user: String, password: String) -> String {
        "Basic " + Base64.encode(Array((user + ":" + password).utf8))
    }
}

/// A user name and password for HTTP authentication (provisioning's
/// `auto_provision.server.username` / `.password`).
public struct HTTPCredentials: Equatable {
    public var user: String
    public var password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }
}

/// The answer to a 401 (RFC 9110 §11.6.1), sans-IO: the `Authorization` value for the
/// strongest usable `WWW-Authenticate` challenge: Digest (RFC 7616: SHA-256 over MD5, qop=auth)
/// when offered, else Basic (RFC 7617).
public enum HTTPAuthorization {
    /// The `Authorization` value answering `response` (a 401) to a GET of `url`, nil when no
    /// challenge is usable (no WWW-Authenticate, an unknown scheme, a malformed Digest).
    public static func answer(
        _ response: HTTPResponse, credentials: HTTPCredentials, url: String,
        cnonce: () -> String = DigestSession.randomCnonce
    ) -> String? {
        var values: [String] = []
        for field in response.headers where HTTPBytes.isName(field.name, "www-authenticate") {
            values.append(field.value)
        }
        if values.isEmpty { return nil }
        if let challenges = try? DigestChallenge.preferred(fromHeaderValues: values, challenger: .server),
            let challenge = challenges.first, case .success(let parsed) = HTTPURL.parse(url)
        {
            let answer = DigestCredentials(
                answering: challenge, username: credentials.user, password: credentials.password, method: "GET",
                uri: parsed.target, cnonce: cnonce(), nonceCount: 1)
            return answer.headerValue
        }
        if values.contains(where: offersBasic) {
            return HTTPRequestOptions.basicAuthorization(user: credentials.user, password: credentials.password)
        }
        return nil
    }

    /// Whether a WWW-Authenticate value holds a Basic challenge (the scheme at its start or after
    /// a comma; names are case-insensitive, RFC 9110 §11.1).
    static func offersBasic(_ value: String) -> Bool {
        let bytes = HTTPBytes.lowercased(Array(value.utf8)[...])
        let basic = Array("basic".utf8)
        var start = 0
        while start < bytes.count {
            var i = start
            while i < bytes.count && (bytes[i] == 32 || bytes[i] == 9 || bytes[i] == 44) { i += 1 }
            if bytes[i...].starts(with: basic) && (i + 5 == bytes.count || bytes[i + 5] == 32) { return true }
            guard let comma = bytes[i...].firstIndex(of: 44) else { return false }
            start = comma + 1
        }
        return false
    }
}

/// The redirect rule of one GET (RFC 9110 §15.4), sans-IO: given each response, whether to
/// follow it and where to, with a bound on how many are followed (a redirect loop ends there).
public struct HTTPRedirects {
    /// What to do with one response.
    public enum Decision: Equatable {
        /// The response is the result (not a redirect, or a 3xx without `Location`).
        case done
        /// GET this absolute URL next.
        case follow(String)
        /// One redirect more than allowed: the request fails with this text.
        case tooMany(String)
    }

    /// Redirects still allowed.
    public private(set) var remaining: Int
    /// Redirects followed so far.
    public private(set) var followed = 0
    private let limit: Int

    public init(maximum: Int) {
        limit = max(0, maximum)
        remaining = limit
    }

    /// Whether `status` is a redirect that names where to go.
    public static func isRedirect(_ status: Int) -> Bool { [301, 302, 303, 307, 308].contains(status) }

    /// The decision for `response` to a GET of `url`.
    public mutating func next(after response: HTTPResponse, from url: String) -> Decision {
        guard HTTPRedirects.isRedirect(response.status), let location = response.header("Location") else {
            return .done
        }
        guard limit > 0 else { return .done }
        guard remaining > 0 else {
            return .tooMany("more than " + String(limit) + " redirects (the last to " + location + ")")
        }
        remaining -= 1
        followed += 1
        return .follow(HTTPRedirects.resolve(location, against: url))
    }

    /// `location` as an absolute URL (RFC 3986 §5.2, the forms servers send): absolute URLs stay,
    /// `//host/path` takes the scheme, `/path` the scheme and authority, anything else the
    /// directory of `base`'s path.
    public static func resolve(_ location: String, against base: String) -> String {
        let text = Array(location.utf8)
        if let colon = text.firstIndex(of: 58), !text[..<colon].contains(47) { return location }
        let baseBytes = Array(base.utf8)
        // The scheme (up to "://") and the authority (up to the next "/").
        guard let colon = baseBytes.firstIndex(of: 58) else { return location }
        let scheme = baseBytes[..<colon]
        if text.starts(with: [47, 47]) { return String(decoding: scheme, as: UTF8.self) + ":" + location }
        var authorityEnd = colon + 3
        while authorityEnd < baseBytes.count && baseBytes[authorityEnd] != 47 && baseBytes[authorityEnd] != 63 {
            authorityEnd += 1
        }
        let origin = String(decoding: baseBytes[..<min(authorityEnd, baseBytes.count)], as: UTF8.self)
        if text.first == 47 { return origin + location }
        var path = Array(baseBytes[min(authorityEnd, baseBytes.count)...])
        if let query = path.firstIndex(of: 63) { path = Array(path[..<query]) }
        let directory = path.lastIndex(of: 47).map { Array(path[...$0]) } ?? [47]
        return origin + String(decoding: directory, as: UTF8.self) + location
    }
}
