// Locating a SIP server by name (RFC 3263 §4), sans-IO: the locator says which DNS question to
// ask next, is given the answer, and ends with the ordered list of targets to try. The edge that
// asks the questions is `SIPServerResolution` (on the reactor, through `Net.DNSResolver`).

import Net

/// One place a request for a server may go (RFC 3263 §4): transport and socket address, and
/// the name it was found under (for log lines).
public struct SIPServerTarget: Equatable, Sendable, CustomStringConvertible {
    public var peer: SIPPeer
    public var name: String

    public init(peer: SIPPeer, name: String) {
        self.peer = peer
        self.name = name
    }

    public var description: String {
        peer.transport.name + " " + peer.remote.description
            + (name == peer.remote.plainHostText ? "" : " (" + name + ")")
    }
}

/// RFC 3263 §4 for a client: from a host (name or IP literal), an optional port and an optional
/// transport to the ordered targets.
/// - a literal is used as it is (port 5060 when none, 5061 for TLS, UDP when no transport);
/// - a name with a port: its A records (AAAA when it has none) on that port (§4.2);
/// - a name, no port, no transport: NAPTR (§4.1: flag "s", services SIP+D2U, SIP+D2T and
///   SIPS+D2T, by order then preference) to SRV names; without usable NAPTR records, `_sip._udp`
///   and `_sip._tcp` SRV; with a transport, only its SRV name (`_sips._tcp` for TLS, §4.1);
/// - `secureOnly` (a `sips:` target, RFC 3263 §4.1 and RFC 5630): only TLS targets, whatever
///   NAPTR offers, and `_sips._tcp` without NAPTR records;
/// - SRV records (RFC 2782): by priority, a weighted random order among equal priorities (the
///   random source is injected), each target's addresses on the record's port; a target "."
///   means no service there;
/// - no SRV record at all: the name's addresses on 5060 (5061 for TLS, §4.2).
/// At most `questionLimit` questions are asked, so a hostile zone cannot keep it going.
public struct SIPServerLocator {
    /// What to do next.
    public enum Step: Equatable {
        /// Ask this DNS question and give the answer to `receive`.
        case query(name: String, type: DNSRecordType)
        /// Finished: the targets in the order to try (empty when nothing resolved).
        case done([SIPServerTarget])
    }

    private enum Work {
        case naptr
        case srv(name: String, transport: SIPTransportProtocol)
        case addresses(name: String, port: UInt16, transport: SIPTransportProtocol, type: DNSRecordType)
        /// Without SRV records: the host's own addresses on 5060 (only when no SRV gave a target).
        case fallback(transport: SIPTransportProtocol)
    }

    public let host: String
    public let port: UInt16?
    public let transport: SIPTransportProtocol?
    /// Only TLS targets (a `sips:` server, or transport TLS configured).
    public let secureOnly: Bool
    /// One line per question answered ("SRV _sip._udp.example.com: 2 records", ...) for the log.
    public private(set) var notes: [String] = []
    public static let questionLimit = 24

    private let random: (UInt32) -> UInt32
    private var work: [Work] = []
    private var asking: Work? = nil
    private var targets: [SIPServerTarget] = []
    private var questions = 0
    private var sawService = false

    /// `random(n)` returns a number in `0..<n` (n ≥ 1): the SRV weighted choice.
    public init(
        host: String, port: UInt16? = nil, transport: SIPTransportProtocol? = nil, secureOnly: Bool = false,
        random: @escaping (UInt32) -> UInt32
    ) {
        self.host = host
        self.port = port
        let transport: SIPTransportProtocol? = secureOnly && transport != nil ? .tls : transport
        self.transport = transport
        self.secureOnly = secureOnly || transport == .tls
        self.random = random
        let chosen = transport ?? (secureOnly ? .tls : .udp)
        if let literal = SIPSocketAddress(literal: host, port: port ?? chosen.defaultPort) {
            targets = [SIPServerTarget(peer: SIPPeer(transport: chosen, remote: literal), name: host)]
        } else if let port {
            work = [.addresses(name: host, port: port, transport: chosen, type: .a)]
        } else if let transport {
            work = [.srv(name: SIPServerLocator.srvName(host, transport), transport: transport), .fallback(transport: transport)]
        } else {
            work = [.naptr]
        }
    }

    /// The SRV name of a transport (RFC 3263 §4.1): `_sip._udp`, `_sip._tcp`, `_sips._tcp`.
    static func srvName(_ host: String, _ transport: SIPTransportProtocol) -> String {
        switch transport {
        case .udp: return "_sip._udp." + host
        case .tcp: return "_sip._tcp." + host
        case .tls: return "_sips._tcp." + host
        }
    }

    /// The next question, or the targets when done.
    public mutating func next() -> Step {
        while !work.isEmpty {
            let item = work.removeFirst()
            if questions >= SIPServerLocator.questionLimit {
                notes.append("stopped after " + String(questions) + " DNS questions")
                work.removeAll()
                break
            }
            switch item {
            case .naptr:
                asking = item
                questions += 1
                return .query(name: host, type: .naptr)
            case .srv(let name, _):
                asking = item
                questions += 1
                return .query(name: name, type: .srv)
            case .addresses(let name, _, _, let type):
                asking = item
                questions += 1
                return .query(name: name, type: type)
            case .fallback(let transport):
                if sawService { continue }
                work.insert(.addresses(name: host, port: transport.defaultPort, transport: transport, type: .a), at: 0)
            }
        }
        asking = nil
        return .done(targets)
    }

    /// The answer to the question `next()` asked last (a failure counts as no records).
    public mutating func receive(_ result: Result<[DNSRecord], DNSError>) {
        guard let item = asking else { return }
        asking = nil
        var records: [DNSRecord] = []
        switch result {
        case .success(let found): records = found
        case .failure(let error): notes.append(error.description)
        }
        switch item {
        case .naptr:
            receiveNAPTR(records)
        case .srv(let name, let transport):
            receiveSRV(records, name: name, transport: transport)
        case .addresses(let name, let port, let transport, let type):
            var count = 0
            for record in records {
                guard case .address(let bytes) = record, let address = SIPSocketAddress(bytes: bytes, port: port) else {
                    continue
                }
                let target = SIPServerTarget(peer: SIPPeer(transport: transport, remote: address), name: name)
                if !targets.contains(target) { targets.append(target) }
                count += 1
            }
            notes.append(type.description + " " + name + ": " + String(count) + " address(es)")
            if count == 0 && type == .a {
                work.insert(.addresses(name: name, port: port, transport: transport, type: .aaaa), at: 0)
            }
        case .fallback:
            break
        }
    }

    private mutating func receiveNAPTR(_ records: [DNSRecord]) {
        var usable: [(order: UInt16, preference: UInt16, name: String, transport: SIPTransportProtocol)] = []
        for record in records {
            guard case .naming(let order, let preference, let flags, let service, _, let replacement) = record,
                ASCIIText.lowercased(Array(flags.utf8)[...]) == Array("s".utf8), !replacement.isEmpty
            else { continue }
            let upper = ASCIIText.lowercased(Array(service.utf8)[...])
            let found: SIPTransportProtocol
            if upper == Array("sip+d2u".utf8) {
                found = .udp
            } else if upper == Array("sip+d2t".utf8) {
                found = .tcp
            } else if upper == Array("sips+d2t".utf8) {
                found = .tls
            } else {
                continue  // SIP+D2S (SCTP), WebSocket and others: not supported
            }
            if secureOnly && found != .tls { continue }  // a sips: server: TLS or nothing
            usable.append((order, preference, replacement, found))
        }
        usable.sort { $0.order != $1.order ? $0.order < $1.order : $0.preference < $1.preference }
        notes.append("NAPTR " + host + ": " + String(usable.count) + " usable of " + String(records.count))
        var next: [Work] = []
        for item in usable { next.append(.srv(name: item.name, transport: item.transport)) }
        if next.isEmpty && secureOnly {
            next = [.srv(name: SIPServerLocator.srvName(host, .tls), transport: .tls)]
        } else if next.isEmpty {
            // §4.1: no NAPTR records, so SRV for each transport we support. (TLS is only chosen
            // when a NAPTR record offers it or it is configured: a plain server's name has no
            // `_sips._tcp` records, so asking would only cost a question.)
            next = [.srv(name: SIPServerLocator.srvName(host, .udp), transport: .udp),
                .srv(name: SIPServerLocator.srvName(host, .tcp), transport: .tcp)]
        }
        next.append(.fallback(transport: secureOnly ? .tls : .udp))
        work.insert(contentsOf: next, at: 0)
    }

    private mutating func receiveSRV(_ records: [DNSRecord], name: String, transport: SIPTransportProtocol) {
        var services: [(priority: UInt16, weight: UInt16, port: UInt16, target: String)] = []
        for record in records {
            guard case .service(let priority, let weight, let port, let target) = record else { continue }
            sawService = true
            if target.isEmpty || target == "." { continue }  // RFC 2782: "." = not available here
            services.append((priority, weight, port, target))
        }
        notes.append("SRV " + name + ": " + String(services.count) + " record(s)")
        let ordered = SIPServerLocator.order(services, random: random)
        var next: [Work] = []
        for s in ordered { next.append(.addresses(name: s.target, port: s.port, transport: transport, type: .a)) }
        work.insert(contentsOf: next, at: 0)
    }

    /// RFC 2782's order: by priority; among equal priorities, repeatedly a weighted random pick
    /// (weight-0 records first in the running sum, so they are chosen rarely but can be).
    static func order(
        _ services: [(priority: UInt16, weight: UInt16, port: UInt16, target: String)],
        random: (UInt32) -> UInt32
    ) -> [(priority: UInt16, weight: UInt16, port: UInt16, target: String)] {
        var out: [(priority: UInt16, weight: UInt16, port: UInt16, target: String)] = []
        var priorities: [UInt16] = []
        for s in services where !priorities.contains(s.priority) { priorities.append(s.priority) }
        priorities.sort()
        for priority in priorities {
            var group = services.filter { $0.priority == priority }
            // Zero weights first (RFC 2782, "Usage rules").
            group = group.filter { $0.weight == 0 } + group.filter { $0.weight != 0 }
            while !group.isEmpty {
                var sum: UInt32 = 0
                for s in group { sum += UInt32(s.weight) }
                let pick = sum == 0 ? 0 : min(random(sum + 1), sum)
                var running: UInt32 = 0
                var chosen = group.count - 1
                for (i, s) in group.enumerated() {
                    running += UInt32(s.weight)
                    if running >= pick {
                        chosen = i
                        break
                    }
                }
                out.append(group.remove(at: chosen))
            }
        }
        return out
    }
}
