import Config
import Net

/// One SIP server of an account (`account.1.sip_server.N.*`, Yealink style): an IP literal or a
/// host name found by RFC 3263 (`SIPServerLocator`), with its own lifetime and patience.
public struct SIPServerConfiguration: Equatable, Sendable, CustomStringConvertible {
    /// An IP literal (in its plain form) or a host name.
    public var address: String
    /// nil when not configured: 5060 for a literal (5061 for TLS), SRV (or NAPTR) for a name.
    public var port: UInt16?
    /// nil for DNS-NAPTR (transport 3): NAPTR chooses, UDP for a literal. `.tls` (transport 2)
    /// never falls back to UDP or TCP.
    public var transport: SIPTransportProtocol?
    /// Registration lifetime asked for, seconds.
    public var expires: Int
    /// Retransmissions of a REGISTER to one target before the next target is tried (a transport
    /// error or a 503 moves on at once).
    public var retryCounts: Int
    public static let defaultRetryCounts = 3

    public init(
        address: String, port: UInt16? = nil, transport: SIPTransportProtocol? = .udp, expires: Int = 3600,
        retryCounts: Int = SIPServerConfiguration.defaultRetryCounts
    ) {
        self.address = address
        self.port = port
        self.transport = transport
        self.expires = expires
        self.retryCounts = retryCounts
    }

    /// Whether the address is an IP literal (no DNS needed).
    public var isLiteral: Bool { SIPSocketAddress(literal: address, port: 0) != nil }

    /// The peer of a literal server, nil for a name.
    public var literalPeer: SIPPeer? {
        let chosen = transport ?? .udp
        guard let remote = SIPSocketAddress(literal: address, port: port ?? chosen.defaultPort) else { return nil }
        return SIPPeer(transport: chosen, remote: remote)
    }

    /// This server as a loose route (RFC 3261 §8.1.2, §19.1.1): `<sip:host[:port][;transport=tcp];lr>`,
    /// `sips:` for TLS.
    public var looseRoute: SIPNameAddress {
        var uri = SIPURI(
            scheme: transport == .tls ? "sips" : "sip", host: SIPAccountConfiguration.host(address),
            port: port.map { Int($0) })
        if transport == .tcp { uri.parameters.append(SIPParameter(name: "transport", value: "tcp")) }
        uri.parameters.append(SIPParameter(name: "lr"))
        return SIPNameAddress(uri: uri)
    }

    /// A locator for this server's targets (RFC 3263 §4).
    public func locator(random: @escaping (UInt32) -> UInt32) -> SIPServerLocator {
        SIPServerLocator(host: address, port: port, transport: transport, random: random)
    }

    /// How long one target gets before the next is tried: the time the REGISTER's
    /// `retryCounts` retransmissions take on UDP (T1, 2·T1, 4·T1, ...: 7.5 s for 3 with
    /// T1 = 500 ms), at most Timer F (64·T1).
    public func attemptNanoseconds(t1: Int64) -> Int64 {
        var total: Int64 = 0
        var interval = t1
        for _ in 0...max(0, retryCounts) {
            total += interval
            interval *= 2
            if total >= 64 * t1 { return 64 * t1 }
        }
        return total
    }

    public var description: String {
        var text = address
        if let port { text += ":" + String(port) }
        text += " " + (transport?.name ?? "NAPTR")
        return text + ", expires " + String(expires) + ", retry counts " + String(retryCounts)
    }

    /// Reads `<prefix>address` (empty: nil), `port`, `transport`, `expires`, `retry_counts`.
    static func read(_ file: ConfigFile, prefix key: String) throws(ConfigError) -> SIPServerConfiguration? {
        // Every key is checked, also without an address (a typo there is still a typo).
        let text = file.string(key + "address") ?? ""
        var server = SIPServerConfiguration(address: text)
        if let literal = SIPSocketAddress(literal: text, port: 0) {
            server.address = literal.plainHostText
        } else if DNSName.isHostName(text) {
            server.address = text.hasSuffix(".") ? String(text.dropLast()) : text
        } else if !text.isEmpty {
            throw file.error(
                key + "address", key + "address = '" + text + "': expected an IP address or a host name")
        }
        if let entry = file.entry(key + "transport") {
            switch entry.value {
            case "0", "udp", "UDP": server.transport = .udp
            case "1", "tcp", "TCP": server.transport = .tcp
            case "2", "tls", "TLS": server.transport = .tls
            case "3", "naptr", "NAPTR": server.transport = nil
            default:
                throw ConfigError(
                    entry.file, entry.line,
                    key + "transport = '" + entry.value + "': expected 0 (udp), 1 (tcp), 2 (tls) or 3 (DNS-NAPTR)")
            }
        }
        let port = try file.int(key + "port", default: 0, in: 0...65535)
        let defaultPort = (server.transport ?? .udp).defaultPort
        server.port = port == 0 ? (server.isLiteral ? defaultPort : nil) : UInt16(port)
        server.expires = try file.int(key + "expires", default: 3600, in: 30...86400)
        server.retryCounts = try file.int(key + "retry_counts", default: defaultRetryCounts, in: 0...20)
        if text.isEmpty { return nil }
        return server
    }
}

/// Host-name syntax (RFC 1123 §2.1): dot-separated labels of letters, digits and '-', the last
/// label not all digits.
enum DNSName {
    static func isHostName(_ text: String) -> Bool {
        var bytes = Array(text.utf8)
        if bytes.last == 46 { bytes.removeLast() }
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        let labels = bytes.split(separator: 46, omittingEmptySubsequences: false)
        for label in labels {
            guard !label.isEmpty, label.count <= 63, label.first != 45, label.last != 45 else { return false }
            for c in label {
                let ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45
                if !ok { return false }
            }
        }
        if let last = labels.last, last.allSatisfy({ $0 >= 48 && $0 <= 57 }) { return false }
        return true
    }
}
