import Net

/// The identities a server certificate presents, as RFC 5922 §7.1 reads them: dNSName,
/// iPAddress and URI subjectAltNames, and the subject's common name.
public struct CertificateNames: Equatable, Sendable {
    /// dNSName entries, as written (`pbx.example.com`, `*.example.com`).
    public var dnsNames: [String]
    /// iPAddress entries: 4 (IPv4) or 16 (IPv6) network-order bytes each.
    public var ipAddresses: [[UInt8]]
    /// uniformResourceIdentifier entries, as written (`sip:example.com`).
    public var uris: [String]
    /// The subject's common name, if any.
    public var commonName: String?

    public init(
        dnsNames: [String] = [], ipAddresses: [[UInt8]] = [], uris: [String] = [], commonName: String? = nil
    ) {
        self.dnsNames = dnsNames
        self.ipAddresses = ipAddresses
        self.uris = uris
        self.commonName = commonName
    }
}

/// Server identity check of RFC 5922 §7 (with RFC 6125's wildcard rule): does a certificate
/// name the host the phone wanted? Pure: names in, verdict out.
///
/// - A host name matches a dNSName case-insensitively, or a `sip:` URI whose host part is that
///   domain (no user part).
/// - A wildcard counts only as the whole left-most label: `*.example.com` matches
///   `a.example.com`, never `example.com`, `a.b.example.com` or through `f*.example.com`.
/// - An IP literal (`192.0.2.1`, `2001:db8::1`, `[2001:db8::1]`) matches only an iPAddress entry.
/// - The common name is looked at only when the certificate has no dNSName and no URI entry.
public enum ServerIdentity {
    /// Whether `names` identify `wanted` (a host name or an IP literal).
    public static func matches(_ names: CertificateNames, wanted: String) -> Bool {
        if let address = SocketAddress(literal: wanted, port: 0) {
            let bytes = address.address
            return names.ipAddresses.contains(bytes)
        }
        let host = canonical(wanted)
        if host.isEmpty { return false }
        for name in names.dnsNames where dnsNameMatches(canonical(name), host: host) { return true }
        for uri in names.uris {
            if let domain = sipURIDomain(uri), canonical(domain) == host { return true }
        }
        if names.dnsNames.isEmpty && names.uris.isEmpty, let cn = names.commonName {
            return dnsNameMatches(canonical(cn), host: host)
        }
        return false
    }

    /// Whether `name` is an IPv4 or IPv6 literal (bracketed or not) rather than a host name.
    public static func isIPLiteral(_ name: String) -> Bool { SocketAddress(literal: name, port: 0) != nil }

    /// Lower-case bytes without one trailing dot (`PBX.Example.com.` is `pbx.example.com`).
    static func canonical(_ name: String) -> [UInt8] {
        var bytes = ASCIIText.lowercased(Array(name.utf8)[...])
        if bytes.last == 46 { bytes.removeLast() }
        return bytes
    }

    /// A dNSName (or CN) against a host, both canonical: equal, or `*.` + the host's parent.
    static func dnsNameMatches(_ pattern: [UInt8], host: [UInt8]) -> Bool {
        if pattern.isEmpty { return false }
        if !pattern.contains(42) { return pattern == host }  // no "*"
        // Only "*." as the whole left-most label, with at least two labels after it.
        guard pattern.count > 2, pattern[0] == 42, pattern[1] == 46 else { return false }
        let parent = pattern[2...]
        if parent.contains(42) || !parent.contains(46) { return false }
        guard let dot = host.firstIndex(of: 46), dot > 0 else { return false }
        return host[(dot + 1)...].elementsEqual(parent)
    }

    /// The domain of a `sip:domain` URI SAN (scheme case-insensitive, port and parameters
    /// dropped); nil for other schemes or a URI with a user part.
    static func sipURIDomain(_ uri: String) -> String? {
        let bytes = Array(uri.utf8)
        guard bytes.count > 4, ASCIIText.lowercased(bytes[0..<4]) == Array("sip:".utf8) else { return nil }
        var end = 4
        while end < bytes.count && bytes[end] != 59 && bytes[end] != 58 && bytes[end] != 63 { end += 1 }
        let host = bytes[4..<end]
        if host.isEmpty || host.contains(64) { return nil }  // "@": a user, not a domain
        return String(decoding: host, as: UTF8.self)
    }
}
