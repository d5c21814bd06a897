import Net

/// An absolute `http://` or `https://` URL taken apart for one GET (RFC 3986 §3, RFC 9110
/// §4.2.1-§4.2.2): the scheme, the server's IP address (or host name, for `DNSResolver`) and
/// port, the `Host` header value and the request target (path and query, fragment dropped).
struct HTTPURL: Equatable, CustomStringConvertible {
    /// `https`: the request goes through TLS (RFC 9110 §4.2.2; port 443 by default).
    var isSecure = false
    /// Where to connect, when the host is an IP literal.
    var address: SocketAddress?
    /// The host name to resolve first, when the host is not an IP literal.
    var hostName: String?
    var port: UInt16
    /// The `Host` header value: the host as written (IPv6 in brackets), `:port` when not 80.
    var hostHeader: String
    /// The request target in origin form (RFC 9112 §3.2.1): `/path?query`, never empty.
    var target: String

    var description: String { (isSecure ? "https://" : "http://") + hostHeader + target }

    /// The name the server's certificate must carry (RFC 9110 §4.3.4, RFC 6125): the host name,
    /// or the IP literal.
    var serverName: String { hostName ?? address?.plainHostText ?? "" }

    /// The scheme, host and port: requests with the same origin may share credentials.
    var origin: String { (isSecure ? "https://" : "http://") + hostHeader }

    /// Largest URL accepted (a request line longer than this is not a record URL).
    static let maximumLength = 4096

    /// Parses `text`; the error string says why a URL is refused, in words fit for the LCD.
    static func parse(_ text: String) -> Result<HTTPURL, HTTPURLError> {
        let bytes = Array(text.utf8)
        if bytes.count > maximumLength {
            return .failure(HTTPURLError("URL longer than " + String(maximumLength) + " bytes"))
        }
        // Leading/trailing blanks are a provisioning slip, not part of the URL.
        var start = 0
        var end = bytes.count
        while start < end && (bytes[start] == 32 || bytes[start] == 9) { start += 1 }
        while end > start && (bytes[end - 1] == 32 || bytes[end - 1] == 9) { end -= 1 }
        let url = bytes[start..<end]
        guard let colon = url.firstIndex(of: 58) else {  // ":"
            return .failure(HTTPURLError(url.isEmpty ? "empty URL" : "not an absolute URL"))
        }
        let scheme = HTTPBytes.lowercased(url[start..<colon])
        let secure = scheme == Array("https".utf8)
        guard secure || scheme == Array("http".utf8) else {
            return .failure(HTTPURLError("unsupported URL scheme '" + HTTPBytes.printable(url[start..<colon]) + "'"))
        }
        let defaultPort: UInt16 = secure ? 443 : 80
        var i = colon + 1
        guard i + 1 < end, url[i] == 47, url[i + 1] == 47 else {  // "//"
            return .failure(
                HTTPURLError("not an absolute URL (no // after " + (secure ? "https" : "http") + ":)"))
        }
        i += 2
        // Authority: up to the first "/", "?" or "#".
        var authorityEnd = i
        while authorityEnd < end && url[authorityEnd] != 47 && url[authorityEnd] != 63 && url[authorityEnd] != 35 {
            authorityEnd += 1
        }
        let authority = url[i..<authorityEnd]
        if authority.contains(64) {  // "@"
            return .failure(HTTPURLError("user names in URLs are not supported"))
        }
        var hostBytes: ArraySlice<UInt8>
        var portBytes: ArraySlice<UInt8>? = nil
        if authority.first == 91 {  // "[" IPv6 literal
            guard let close = authority.firstIndex(of: 93) else {
                return .failure(HTTPURLError("unterminated [ in URL host"))
            }
            hostBytes = authority[authority.startIndex...close]
            let rest = authority[(close + 1)...]
            if !rest.isEmpty {
                guard rest.first == 58 else { return .failure(HTTPURLError("junk after ] in URL host")) }
                portBytes = rest.dropFirst()
            }
        } else if let portColon = authority.firstIndex(of: 58) {
            hostBytes = authority[authority.startIndex..<portColon]
            portBytes = authority[(portColon + 1)...]
        } else {
            hostBytes = authority
        }
        if hostBytes.isEmpty { return .failure(HTTPURLError("no host in URL")) }
        var port = defaultPort
        if let portBytes, !portBytes.isEmpty {  // "host:" means the default port (RFC 3986 §3.2.3)
            guard let value = HTTPBytes.decimal(portBytes, maximum: 65535), value > 0 else {
                return .failure(HTTPURLError("bad port '" + HTTPBytes.printable(portBytes) + "' in URL"))
            }
            port = UInt16(value)
        }
        let host = String(decoding: hostBytes, as: UTF8.self)
        let address = SocketAddress(literal: host, port: port)
        if address == nil {
            if hostBytes.first == 91 || hostBytes.contains(58) {
                return .failure(HTTPURLError("bad IPv6 address '" + HTTPBytes.printable(hostBytes) + "' in URL"))
            }
            // A name whose last label is all digits is a mistyped IPv4 address (RFC 1123 §2.1).
            let lastLabel = hostBytes.split(separator: 46).last ?? []
            if DNSResolver.encodeName(host) == nil || lastLabel.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
                return .failure(HTTPURLError("bad host '" + HTTPBytes.printable(hostBytes) + "' in URL"))
            }
        }
        var hostHeader = address?.isIPv6 == true ? address!.hostText : host
        if port != defaultPort { hostHeader += ":" + String(port) }
        // Path and query; the fragment never goes on the wire (RFC 3986 §3.5).
        var targetEnd = authorityEnd
        while targetEnd < end && url[targetEnd] != 35 { targetEnd += 1 }
        var target: [UInt8] = []
        target.reserveCapacity(targetEnd - authorityEnd + 1)
        if authorityEnd == targetEnd || url[authorityEnd] != 47 { target.append(47) }
        for b in url[authorityEnd..<targetEnd] { HTTPBytes.appendTargetByte(b, to: &target) }
        // Percent-encoding can triple a byte: the URL as printed (and sent) must parse again.
        if (secure ? 8 : 7) + hostHeader.utf8.count + target.count > maximumLength {
            return .failure(HTTPURLError("URL longer than " + String(maximumLength) + " bytes once encoded"))
        }
        return .success(
            HTTPURL(
                isSecure: secure, address: address, hostName: address == nil ? host : nil, port: port,
                hostHeader: hostHeader, target: String(decoding: target, as: UTF8.self)))
    }
}

/// Why a URL was refused (the text shown to the user).
public struct HTTPURLError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Byte helpers shared by the URL parser, the response parser and the record URL template.
public enum HTTPBytes {
    static func lowercased(_ s: ArraySlice<UInt8>) -> [UInt8] { ASCIIText.lowercased(s) }

    /// Whether `name` equals `lowercase` ignoring ASCII case (header names, RFC 9110 §5.1).
    static func isName(_ name: String, _ lowercase: String) -> Bool {
        let a = name.utf8
        let b = lowercase.utf8
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where (x >= 65 && x <= 90 ? x + 32 : x) != y { return false }
        return true
    }

    /// `s` without leading and trailing spaces and tabs.
    static func trimmed(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var start = s.startIndex
        var end = s.endIndex
        while start < end && (s[start] == 32 || s[start] == 9) { start += 1 }
        while end > start && (s[end - 1] == 32 || s[end - 1] == 9) { end -= 1 }
        return s[start..<end]
    }

    /// A decimal number of at most `maximum`; nil for empty text, a non-digit or overflow.
    static func decimal(_ s: ArraySlice<UInt8>, maximum: Int) -> Int? {
        if s.isEmpty { return nil }
        var value = 0
        for c in s {
            guard c >= 48 && c <= 57 else { return nil }
            value = value * 10 + Int(c - 48)
            if value > maximum { return nil }
        }
        return value
    }

    /// Text safe to quote in a message: printable ASCII kept, anything else as `\xHH`,
    /// at most 64 bytes.
    static func printable(_ s: ArraySlice<UInt8>) -> String { ASCIIText.printable(s) }

    /// The upper-case hex digit of `v` (0...15), as in percent-encoding (RFC 3986 §2.1).
    public static func hexDigit(_ v: UInt8) -> UInt8 { ASCIIText.hexDigit(v) }

    /// Appends one byte of a request target: bytes that may not appear there (controls,
    /// space, non-ASCII, `"<>\^`{|}`) are percent-encoded, so no configured URL can break
    /// the request line; everything else (including `%`) is kept as written.
    static func appendTargetByte(_ b: UInt8, to out: inout [UInt8]) {
        switch b {
        case 0...32, 127...255, 34, 60, 62, 92, 94, 96, 123, 124, 125:
            out += [37, hexDigit(b >> 4), hexDigit(b & 15)]
        default:
            out.append(b)
        }
    }
}
