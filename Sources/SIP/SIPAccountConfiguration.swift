// The SIP account of a desk phone, read from a provisioning file (`#!version:1.0.0.1`,
// `key = value`, Yealink-style key names).
//
// Keys (defaults in brackets; a value out of range is rejected with file:line):
//   account.1.enable                 0|1 [0]   register account 1 at its server
//   account.1.user_name              text      SIP user (From/Contact user, REGISTER To) [deskphone]
//   account.1.auth_name              text      digest username [user_name]
//   account.1.password               text      digest password [empty]
//   account.1.display_name           text      From display name [none]
//   account.1.sip_server.1.address   registrar/proxy: an IPv4/IPv6 literal or a host name (found
//                                    by RFC 3263: NAPTR/SRV/A/AAAA, see SIPServerLocator); empty =
//                                    direct-IP mode (no registration, calls go to the URI's host:port)
//   account.1.sip_server.1.port      0..65535 [0]: 0 = 5060 for a literal, SRV lookup for a name
//   account.1.sip_server.1.transport 0|udp, 1|tcp or 3|naptr (DNS-NAPTR chooses) [0]; 2 = TLS refused
//   account.1.sip_server.1.expires   30..86400 seconds asked for in REGISTER [3600]
//   account.1.sip_server.1.retry_counts 0..20 REGISTER retransmissions to one target before the
//                                    next target is tried [3] (a transport error or 503: at once)
//   account.1.sip_server.2.*         the backup server, same keys: tried when every target of
//                                    server 1 failed; the next refresh tries server 1 again
//   account.1.codecs                 comma list in preference order from pcmu (g711u), pcma (g711a),
//                                    g722, opus, l16 [g722,pcmu,pcma]; wins over the keys below
//   account.1.codec.N.enable         0|1 [1]   Yealink-style codec table: entry N is used when
//   account.1.codec.N.payload_type   name      enabled and its name (PCMU, PCMA, G722, opus, L16)
//   account.1.codec.N.priority       0..100    is known, ordered by priority (1 first, 0 = last;
//                                    [N]) then N; unknown names (G729, iLBC) are skipped
//   account.1.ptime                  10|20|30|40 ms packet duration offered [20]
//   account.1.dtmf.telephone_event   0|1 offer RFC 4733 telephone-event [1]
//   account.1.srtp_encryption        0 off | 1 optional | 2 mandatory [0]: SRTP with SDES keys
//                                    (SDPCrypto.swift; offer/answer policy in SDPOfferAnswer.swift)
//   account.1.max_calls              1..16 calls at once, in and out [4]; one more incoming INVITE
//                                    gets 486 Busy Here before it rings, one more dial fails
//   account.1.ring_timeout           10..3600 s an incoming call rings unanswered before it is
//                                    refused with 480 Temporarily Unavailable [120]
//   account.1.nat.udp_update_enable  0|1 [1]  keep-alives to the registrar while registered;
//   account.1.nat.udp_update_time    5..3600 s [30] their interval (SIPKeepAlive.swift)
//   account.1.session_timer.*        RFC 4028 session timers: enable 0|1 [0], expires 90..7200 s [1800],
//                                    refresher 0 = uac | 1 = uas [0] (SIPSessionTimer.swift)
//   sip.listen_port                  0..65535 local SIP port, 0 = any free port [5060]
//   sip.trust_ctrl                   0|1 [0]   accept requests only from the account's SIP server
//                                    (calls, OPTIONS, everything: strangers get no answer at all,
//                                    so IP calls are not accepted); needs a server address
//   sip.notify_reboot_enable         0|1|2 [0] check-sync NOTIFY: 0 restart only with reboot=true,
//                                    1 always restart, 2 ignore (Yealink's values; SIPCheckSync.swift)
//   sip.check_sync.challenge         0|1 [1]   challenge a check-sync NOTIFY with 401 when the
//                                    account has a password
// Host names are resolved on the reactor when the registration starts and at each refresh
// (SIPRegistration); the name servers are Net's (`static.network.primary_dns`, docs/CONFIG.md).

import Config
import Net
import Voice

/// One SIP account: identity, credentials, registrar/proxy and audio preferences
/// (RFC 3261 §10 registration, §22 authentication; RFC 3264 codec order).
public struct SIPAccountConfiguration: Equatable, Sendable, CustomStringConvertible {
    /// Whether the account registers (`account.1.enable`).
    public var enabled: Bool
    /// The account's number N (`account.N.*`): line key N is its Line key.
    public var number = 1
    /// What the screen calls the account (`account.N.label`, Yealink's line label): nil for its
    /// display name, else its user.
    public var label: String?
    public var userName: String
    public var authName: String
    public var password: String
    public var displayName: String?
    /// The account's servers in the order tried (`account.1.sip_server.1/2.*`); empty means
    /// direct-IP mode.
    public var servers: [SIPServerConfiguration] = []
    /// Outbound proxies in the order tried (`account.1.outbound_proxy_enable` and
    /// `account.1.outbound_proxy.1/2.*`): when there are any, every request outside a dialog
    /// goes to one of them with its `Route` (RFC 3261 §8.1.2, loose routing); the REGISTER's
    /// Request-URI stays the server's. Empty: requests go to the server itself.
    public var outboundProxies: [SIPServerConfiguration] = []
    /// Server 1's address: an IP literal or a host name; nil means direct-IP mode.
    public var serverAddress: String? {
        get { servers.first?.address }
        set {
            if let newValue {
                if servers.isEmpty { servers = [SIPServerConfiguration(address: newValue)] }
                servers[0].address = newValue
            } else {
                servers = []
            }
        }
    }
    /// Server 1's port (5060 when not configured).
    public var serverPort: UInt16 {
        get { servers.first?.port ?? 5060 }
        set { if !servers.isEmpty { servers[0].port = newValue } }
    }
    /// Server 1's transport (UDP for DNS-NAPTR until a target is chosen).
    public var transport: SIPTransportProtocol {
        get { servers.first?.transport ?? .udp }
        set { if !servers.isEmpty { servers[0].transport = newValue } }
    }
    /// Registration lifetime asked for from server 1, seconds.
    public var expires: Int {
        get { servers.first?.expires ?? storedExpires }
        set {
            storedExpires = newValue
            if !servers.isEmpty { servers[0].expires = newValue }
        }
    }
    private var storedExpires = 3600
    /// Local SIP port (0 = any).
    public var listenPort: UInt16
    /// Codecs in preference order.
    public var codecs: [CodecDescriptor]
    public var ptime: Int
    public var telephoneEvent: Bool
    /// SRTP with SDES keys (`account.1.srtp_encryption`).
    public var srtp: SRTPPolicy = .off
    /// Live calls at once, incoming and outgoing (`account.1.max_calls`): one more incoming
    /// INVITE is answered 486 Busy Here before it rings, one more dial is refused.
    public var maxCalls: Int
    /// How long an incoming call rings unanswered before the phone refuses it with 480
    /// (`account.1.ring_timeout`), seconds.
    public var ringTimeoutSeconds: Int
    /// Requests are accepted only from the server's address (`sip.trust_ctrl`); others are
    /// dropped unanswered, as vendor phones' "accept SIP trust server only" does.
    public var trustServerOnly = false
    /// Session timers (RFC 4028, `account.1.session_timer.*`).
    public var sessionTimer = SIPSessionTimerSettings()
    /// NAT keep-alives while registered (`account.1.nat.*`).
    public var keepAlive = SIPKeepAliveSettings()
    /// RFC 5626 outbound (`account.N.sip_outbound.*`, SIPOutbound.swift).
    public var outbound = SIPOutboundSettings()
    /// `account.1.100rel_enable`: offer `Supported: 100rel` in our INVITEs and send our 180
    /// reliably to a caller that supports it (RFC 3262). Off: reliable provisionals only when the
    /// caller requires them (a caller's `Require: 100rel` is always honoured, a reliable 1xx to
    /// our INVITE always acknowledged).
    public var reliableProvisional = false
    /// check-sync NOTIFYs: restart policy and digest challenge (`sip.notify_reboot_enable`,
    /// `sip.check_sync.challenge`; SIPCheckSync.swift).
    public var checkSync = SIPCheckSyncSettings()
    /// Message waiting (`account.N.subscribe_mwi*`, `voice_mail.number.N`; SIPMessageWaiting.swift).
    public var mwi = SIPMWISettings()
    public static let defaultMaxCalls = 4
    public static let defaultRingTimeoutSeconds = 120

    public init(
        userName: String = "deskphone", authName: String? = nil, password: String = "", displayName: String? = nil,
        serverAddress: String? = nil, serverPort: UInt16 = 5060, transport: SIPTransportProtocol = .udp,
        expires: Int = 3600, listenPort: UInt16 = 5060, enabled: Bool? = nil,
        codecs: [CodecDescriptor] = [CodecRegistry.g722, CodecRegistry.pcmu, CodecRegistry.pcma], ptime: Int = 20,
        telephoneEvent: Bool = true
    ) {
        self.userName = userName
        self.authName = authName ?? userName
        self.password = password
        self.displayName = displayName
        if let serverAddress {
            servers = [
                SIPServerConfiguration(address: serverAddress, port: serverPort, transport: transport, expires: expires)
            ]
        }
        self.storedExpires = expires
        self.listenPort = listenPort
        self.enabled = enabled ?? (serverAddress != nil)
        self.codecs = codecs
        self.ptime = ptime
        self.telephoneEvent = telephoneEvent
        maxCalls = SIPAccountConfiguration.defaultMaxCalls
        ringTimeoutSeconds = SIPAccountConfiguration.defaultRingTimeoutSeconds
    }

    /// Server 1 as a socket peer when it is an IP literal; nil for a name (the registration
    /// locates it) and in direct-IP mode.
    public var serverPeer: SIPPeer? { servers.first?.literalPeer }

    /// Whether calls go straight to the URI's host (no server configured).
    public var isDirectIP: Bool { serverAddress == nil }

    /// The address-of-record: `sip:user@server` (or `sip:user@host` in direct-IP mode).
    public func addressOfRecord(localHost: String) -> SIPURI {
        let host = serverAddress ?? localHost
        return SIPURI(user: userName, host: SIPAccountConfiguration.host(host))
    }

    static func host(_ text: String) -> SIPHost {
        if let literal = SIPSocketAddress(literal: text, port: 0) {
            return literal.isIPv6 ? .ipv6(literal.plainHostText) : .ipv4(literal.plainHostText)
        }
        return .name(text)
    }

    public var description: String {
        var text = "account " + userName
        if !servers.isEmpty {
            text += " at " + servers[0].description
            if servers.count > 1 { text += ", backup " + servers[1].description }
            for proxy in outboundProxies { text += ", via outbound proxy " + proxy.description }
            text += enabled ? " (registers)" : " (not registering)"
        } else {
            text += " direct-IP"
        }
        var names = ""
        for codec in codecs { names += (names.isEmpty ? "" : ",") + codec.encodingName }
        return text + ", listen " + String(listenPort) + ", codecs " + names + " ptime " + String(ptime)
    }

    // MARK: provisioning

    /// Reads account `index` (1-based) from a parsed provisioning file.
    public init(_ file: ConfigFile, account index: Int = 1) throws(ConfigError) {
        let prefix = "account." + String(index) + "."
        self.init()
        userName = file.string(prefix + "user_name") ?? "deskphone"
        if userName.isEmpty || !SIPAccountConfiguration.isUserText(userName) {
            throw file.error(prefix + "user_name", prefix + "user_name = '" + userName + "': not a valid SIP user")
        }
        let auth = file.string(prefix + "auth_name") ?? ""
        authName = auth.isEmpty ? userName : auth
        password = file.string(prefix + "password") ?? ""
        number = index
        let labelText = file.string(prefix + "label") ?? ""
        label = labelText.isEmpty ? nil : labelText
        let display = file.string(prefix + "display_name") ?? ""
        displayName = display.isEmpty ? nil : display
        for scalar in display.unicodeScalars where scalar.value < 0x20 || scalar.value == 0x7F {
            throw file.error(prefix + "display_name", prefix + "display_name: control characters are not allowed")
        }
        let serverKey = prefix + "sip_server.1."
        servers = []
        for n in 1...2 {
            let key = prefix + "sip_server." + String(n) + "."
            if let server = try SIPServerConfiguration.read(file, prefix: key) { servers.append(server) }
        }
        enabled = try file.bool(prefix + "enable", default: false) && serverAddress != nil
        outboundProxies = []
        for n in 1...2 {
            let key = prefix + "outbound_proxy." + String(n) + "."
            guard var proxy = try SIPServerConfiguration.read(file, prefix: key) else { continue }
            // The proxy speaks the account's transport unless told otherwise.
            if file.entry(key + "transport") == nil, let transport = servers.first?.transport {
                proxy.transport = transport
                if proxy.isLiteral && file.entry(key + "port") == nil { proxy.port = transport.defaultPort }
            }
            outboundProxies.append(proxy)
        }
        if !(try file.bool(prefix + "outbound_proxy_enable", default: false)) {
            outboundProxies = []
        } else if outboundProxies.isEmpty {
            throw file.error(
                prefix + "outbound_proxy_enable",
                prefix + "outbound_proxy_enable = 1 needs " + prefix + "outbound_proxy.1.address")
        } else if serverAddress == nil {
            throw file.error(
                prefix + "outbound_proxy_enable",
                prefix + "outbound_proxy_enable = 1 needs a server (" + serverKey + "address) to register with")
        }
        listenPort = UInt16(try file.int("sip.listen_port", default: 5060, in: 0...65535))
        if let yealink = try SIPAccountConfiguration.yealinkCodecs(file, prefix: prefix) { codecs = yealink }
        if let entry = file.entry(prefix + "codecs") {
            codecs = []
            for part in entry.value.split(separator: ",") {
                let name = String(ConfigFileText.trim(part))
                guard let codec = SIPAccountConfiguration.codec(named: name) else {
                    throw ConfigError(
                        entry.file, entry.line,
                        prefix + "codecs: unknown codec '" + name + "' (known: pcmu, pcma, g722, opus, l16)")
                }
                if !codecs.contains(codec) { codecs.append(codec) }
            }
            if codecs.isEmpty {
                throw ConfigError(entry.file, entry.line, prefix + "codecs: at least one codec is needed")
            }
        }
        ptime = try file.int(prefix + "ptime", default: 20, in: 10...40)
        if ptime % 10 != 0 {
            throw file.error(prefix + "ptime", prefix + "ptime = " + String(ptime) + ": expected 10, 20, 30 or 40")
        }
        telephoneEvent = try file.bool(prefix + "dtmf.telephone_event", default: true)
        srtp = SRTPPolicy(configValue: try file.int(prefix + "srtp_encryption", default: 0, in: 0...2)) ?? .off
        maxCalls = try file.int(prefix + "max_calls", default: SIPAccountConfiguration.defaultMaxCalls, in: 1...16)
        ringTimeoutSeconds = try file.int(
            prefix + "ring_timeout", default: SIPAccountConfiguration.defaultRingTimeoutSeconds, in: 10...3600)
        trustServerOnly = try file.bool("sip.trust_ctrl", default: false)
        sessionTimer = try SIPSessionTimerSettings(file, prefix: prefix)
        keepAlive = try SIPKeepAliveSettings(file, prefix: prefix)
        outbound = try SIPOutboundSettings(file, prefix: prefix)
        reliableProvisional = try file.bool(prefix + "100rel_enable", default: false)
        checkSync = try SIPCheckSyncSettings(file)
        mwi = try SIPMWISettings(file, account: index)
        if trustServerOnly && serverAddress == nil {
            throw file.error(
                "sip.trust_ctrl", "sip.trust_ctrl = 1 needs a server (" + serverKey + "address): it would refuse every call")
        }
    }

    /// The account's name on the screen: its label, else its display name, else its user.
    public var screenLabel: String { label ?? displayName ?? userName }

    /// Whether a request from `remote` is accepted: always, unless `trustServerOnly`, when only
    /// a server's address is (any port: a server may send from another port than it listens on):
    /// a literal server's, or one of `located` (the targets found for a named server).
    public func accepts(requestFrom remote: SIPSocketAddress, located: [SIPSocketAddress] = []) -> Bool {
        guard trustServerOnly else { return true }
        var known = located
        for server in servers { if let peer = server.literalPeer { known.append(peer.remote) } }
        return known.contains { $0.hasSameHost(as: remote) }
    }

    /// Yealink's per-codec keys `account.N.codec.M.enable/payload_type/priority`: the enabled
    /// codecs by priority (then M). Codec names the phone does not have (G729, iLBC, ...) are
    /// skipped so real Yealink files load; nil when no such key is set.
    static func yealinkCodecs(_ file: ConfigFile, prefix: String) throws(ConfigError) -> [CodecDescriptor]? {
        let entries = file.entries(withPrefix: prefix + "codec.")
        if entries.isEmpty { return nil }
        var indices: [Int] = []
        for entry in entries {
            let rest = entry.key.dropFirst(prefix.count + 6)
            guard let dot = rest.firstIndex(of: "."), let index = Int(rest[..<dot]), index > 0 else {
                throw ConfigError(entry.file, entry.line, entry.key + ": expected " + prefix + "codec.N.<field>")
            }
            if !indices.contains(index) { indices.append(index) }
        }
        var chosen: [(priority: Int, index: Int, codec: CodecDescriptor)] = []
        for index in indices {
            let key = prefix + "codec." + String(index) + "."
            guard try file.bool(key + "enable", default: true) else { continue }
            let priority = try file.int(key + "priority", default: index, in: 0...100)
            guard let name = file.string(key + "payload_type") else { continue }
            guard let codec = codec(named: name) else { continue }
            chosen.append((priority == 0 ? 1000 + index : priority, index, codec))
        }
        chosen.sort { $0.priority != $1.priority ? $0.priority < $1.priority : $0.index < $1.index }
        var codecs: [CodecDescriptor] = []
        for item in chosen where !codecs.contains(item.codec) { codecs.append(item.codec) }
        if codecs.isEmpty {
            throw file.error(
                prefix + "codec.1.enable",
                prefix + "codec.N: no enabled codec the phone supports (pcmu, pcma, g722, opus)")
        }
        return codecs
    }

    /// Parses provisioning text (see the key list at the top of this file).
    public static func parse(text: String, path: String, account: Int = 1) throws(ConfigError)
        -> SIPAccountConfiguration
    {
        let file = try ConfigFile(text: text, path: path)
        return try SIPAccountConfiguration(file, account: account)
    }

    /// Reads a provisioning file.
    public static func load(path: String, account: Int = 1) throws(ConfigError) -> SIPAccountConfiguration {
        try SIPAccountConfiguration(try ConfigFile.load(path: path), account: account)
    }

    /// The codec a configuration name stands for (case-insensitive).
    public static func codec(named name: String) -> CodecDescriptor? {
        switch ConfigFileText.asciiLowercase(name) {
        case "pcmu", "g711u", "g711mu", "ulaw": return CodecRegistry.pcmu
        case "pcma", "g711a", "alaw": return CodecRegistry.pcma
        case "g722": return CodecRegistry.g722
        case "opus": return CodecRegistry.opus
        case "l16": return CodecRegistry.l16At16000
        default: return nil
        }
    }

    /// RFC 3261 §25.1 `user`: unreserved, escaped and user-unreserved characters.
    static func isUserText(_ text: String) -> Bool {
        for c in text.utf8 {
            let ok =
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || "-_.!~*'()&=+$,;?/%".utf8.contains(c)
            if !ok { return false }
        }
        return true
    }
}

/// Whitespace trimming for list values.
enum ConfigFileText {
    static func asciiLowercase(_ s: String) -> String {
        var bytes: [UInt8] = []
        for c in s.utf8 { bytes.append(c >= 0x41 && c <= 0x5A ? c + 32 : c) }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func trim(_ s: Substring) -> Substring {
        var t = s
        while let c = t.first, c == " " || c == "\t" { t.removeFirst() }
        while let c = t.last, c == " " || c == "\t" { t.removeLast() }
        return t
    }
}
