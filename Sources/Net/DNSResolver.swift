import CLinux
import Config
import Reactor

/// The DNS record types the resolver asks for (RFC 1035 §3.2.2, RFC 3596 §2.1). SRV (33,
/// RFC 2782) and NAPTR (35, RFC 3403) for RFC 3263 server location come next.
public enum DNSRecordType: UInt16, Equatable, Sendable {
    case a = 1
    case aaaa = 28
}

/// One answer record the resolver understood (class IN).
public enum DNSRecord: Equatable, Sendable {
    /// An A (4 bytes) or AAAA (16 bytes) address in network order.
    case address([UInt8])
}

/// Why a name did not resolve (the text shown to the user): "host name 'x' not found",
/// "cannot resolve 'x': no DNS server configured", ...
public struct DNSError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A small non-blocking stub resolver (for the host of a record URL today): `/etc/hosts` first,
/// then one DNS query over UDP (RFC 1035 §4.1, recursion desired) for the A record, then AAAA
/// (RFC 3596), to each configured name server in turn, on the reactor. No TCP fallback (a
/// truncated answer fails), no search domains, no caching.
public final class DNSResolver {
    private final class Query {
        let id: Int
        let name: String
        let port: UInt16
        let completion: (Result<SocketAddress, DNSError>) -> Void
        var serverIndex = 0
        /// The record type asked for now, and the one to ask for when the name has none: A, then AAAA.
        var type: DNSRecordType = .a
        var nextType: DNSRecordType? = .aaaa
        var transaction: UInt16 = 0
        var socket: OwnedDescriptor? = nil
        var timer: TimerID? = nil
        var lastError = ""

        init(
            id: Int, name: String, port: UInt16, completion: @escaping (Result<SocketAddress, DNSError>) -> Void
        ) {
            self.id = id
            self.name = name
            self.port = port
            self.completion = completion
        }
    }

    private let reactor: Reactor
    /// The name servers asked, in order (port 53 normally).
    public let nameservers: [SocketAddress]
    private let hosts: [UInt8]
    private let attemptNanoseconds: Int64
    private var queries: [Int: Query] = [:]
    private var nextID = 1

    /// `hostsText` is the content of an `/etc/hosts`-style table; `attemptNanoseconds` bounds
    /// each query to one server.
    public init(
        reactor: Reactor, nameservers: [SocketAddress], hostsText: String = "",
        attemptNanoseconds: Int64 = 2_000_000_000
    ) {
        self.reactor = reactor
        self.nameservers = nameservers
        self.hosts = Array(hostsText.utf8)
        self.attemptNanoseconds = max(1, attemptNanoseconds)
    }

    /// A resolver configured like the system's: the `nameserver` lines of `/etc/resolv.conf`
    /// (a missing file means none) and `/etc/hosts`. Reads two small local files once.
    public static func system(reactor: Reactor) -> DNSResolver {
        var servers: [SocketAddress] = []
        if let text = try? FileText.read("/etc/resolv.conf", limit: 65536) {
            servers = nameservers(inResolvConf: text)
        }
        let hosts = (try? FileText.read("/etc/hosts", limit: 1 << 20)) ?? ""
        return DNSResolver(reactor: reactor, nameservers: servers, hostsText: hosts)
    }

    /// The `nameserver <IP>` lines of a resolv.conf text, port 53.
    public static func nameservers(inResolvConf text: String) -> [SocketAddress] {
        var out: [SocketAddress] = []
        for line in text.utf8.split(separator: 10) {
            let words = line.split(whereSeparator: { $0 == 32 || $0 == 9 || $0 == 13 })
            guard words.count >= 2, Array(words[0]) == Array("nameserver".utf8) else { continue }
            var address = Array(words[1])
            if let percent = address.firstIndex(of: 37) { address = Array(address[..<percent]) }  // %zone
            if let a = SocketAddress(literal: String(decoding: address, as: UTF8.self), port: 53) { out.append(a) }
        }
        return out
    }

    /// Resolves `name`; the completion runs on the loop (never inside this call), exactly once
    /// unless `cancelAll()` runs first.
    public func resolve(
        _ name: String, port: UInt16, completion: @escaping (Result<SocketAddress, DNSError>) -> Void
    ) {
        let id = nextID
        nextID += 1
        let query = Query(id: id, name: name, port: port, completion: completion)
        queries[id] = query
        if let address = lookUpHosts(name, port: port) {
            reactor.runSoon { [self] in self.finish(id, .success(address)) }
            return
        }
        guard DNSResolver.encodeName(name) != nil else {
            reactor.runSoon { [self] in
                self.finish(
                    id, .failure(DNSError("bad host name '" + ASCIIText.printable(Array(name.utf8)[...]) + "'")))
            }
            return
        }
        if nameservers.isEmpty {
            reactor.runSoon { [self] in
                self.finish(id, .failure(DNSError("cannot resolve '" + name + "': no DNS server configured")))
            }
            return
        }
        reactor.runSoon { [self] in self.send(id) }
    }

    /// Drops every query in flight; no completion runs.
    public func cancelAll() {
        for query in queries.values { tearDown(query) }
        queries.removeAll()
    }

    // MARK: /etc/hosts

    func lookUpHosts(_ name: String, port: UInt16) -> SocketAddress? {
        let wanted = ASCIIText.lowercased(Array(name.utf8)[...])
        for rawLine in hosts.split(separator: 10) {
            var line = rawLine
            if let hash = line.firstIndex(of: 35) { line = line[..<hash] }
            let words = line.split(whereSeparator: { $0 == 32 || $0 == 9 || $0 == 13 })
            guard words.count >= 2 else { continue }
            for alias in words.dropFirst() where ASCIIText.lowercased(alias) == wanted {
                if let a = SocketAddress(literal: String(decoding: words[0], as: UTF8.self), port: port) { return a }
            }
        }
        return nil
    }

    // MARK: DNS over UDP

    private func send(_ id: Int) {
        guard let q = queries[id] else { return }
        tearDown(q)
        guard q.serverIndex < nameservers.count else {
            finish(id, .failure(DNSError("cannot resolve '" + q.name + "': " + q.lastError)))
            return
        }
        let server = nameservers[q.serverIndex]
        let fd = cl_socket_open(server.family, Int32(CL_SOCK_DGRAM))
        if fd < 0 {
            q.lastError = SocketError.text(errno: -fd, call: "socket")
            q.serverIndex += 1
            reactor.runSoon { [self] in self.send(id) }
            return
        }
        let socket = OwnedDescriptor(fd, reactor: reactor)
        q.socket = socket
        var random: UInt16 = 0
        _ = withUnsafeMutableBytes(of: &random) { cl_getrandom($0.baseAddress, 2) }
        q.transaction = random
        let packet = DNSResolver.queryPacket(id: random, name: q.name, type: q.type.rawValue)
        let rc = packet.withUnsafeBytes { p in
            server.withAddressPointer {
                cl_socket_send_to(socket.fd, p.baseAddress, p.count, server.family, $0, server.port)
            }
        }
        if rc < 0 {
            q.lastError = SocketError.text(errno: Int32(-rc), call: "send to DNS server " + server.description)
            q.serverIndex += 1
            reactor.runSoon { [self] in self.send(id) }
            return
        }
        do {
            try socket.watch(for: .readable) { [self] events in self.receive(id, events) }
        } catch {
            q.lastError = SocketError.text(errno: error.errno, call: "watch")
            q.serverIndex += 1
            reactor.runSoon { [self] in self.send(id) }
            return
        }
        q.timer = reactor.after(attemptNanoseconds) { [self] in
            guard let q = self.queries[id] else { return }
            q.timer = nil
            q.lastError = "no answer from DNS server " + server.description
            q.serverIndex += 1
            self.send(id)
        }
    }

    private func receive(_ id: Int, _ events: IOEvents) {
        guard let q = queries[id], let socket = q.socket else { return }
        let server = nameservers[q.serverIndex]
        var buffer = [UInt8](repeating: 0, count: 1500)
        var family: Int32 = 0
        var port: UInt16 = 0
        var from = (UInt64(0), UInt64(0))
        while true {
            let n = buffer.withUnsafeMutableBytes { b in
                withUnsafeMutableBytes(of: &from) {
                    cl_socket_receive_from(
                        socket.fd, b.baseAddress, b.count, &family, $0.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        &port)
                }
            }
            if n < 0 {
                let err = Int32(-n)
                if err == EAGAIN || err == EWOULDBLOCK {
                    // An ICMP error (port unreachable) waits in the error queue: read it, or
                    // epoll would report it again and again.
                    if events.contains(.error), let icmp = DNSResolver.pendingError(socket) {
                        q.lastError = SocketError.text(errno: icmp, call: "DNS server " + server.description)
                        q.serverIndex += 1
                        send(id)
                    }
                    return
                }
                // ICMP port unreachable and the like: try the next server.
                q.lastError = SocketError.text(errno: err, call: "DNS server " + server.description)
                q.serverIndex += 1
                send(id)
                return
            }
            let count = Int(n)
            let sender = SocketAddress(family: family, bytes: from, port: port)
            // Only an answer from the server we asked, to our transaction, counts.
            guard sender == server, count <= buffer.count else { continue }
            switch DNSResolver.parseAnswer(Array(buffer[0..<count]), id: q.transaction, type: q.type) {
            case .ignore:
                continue
            case .record(.address(let bytes)):
                guard let a = SocketAddress(bytes: bytes, port: q.port) else { continue }
                finish(id, .success(a))
            case .noData:
                if let next = q.nextType {
                    q.type = next
                    q.nextType = nil
                    send(id)
                } else {
                    finish(id, .failure(DNSError("host name '" + q.name + "' has no address")))
                }
            case .notFound:
                finish(id, .failure(DNSError("host name '" + q.name + "' not found")))
            case .failed(let why):
                q.lastError = why
                q.serverIndex += 1
                send(id)
            }
            return
        }
    }

    /// Drains the socket's error queue; the last error found, if any.
    static func pendingError(_ socket: OwnedDescriptor) -> Int32? {
        var found: Int32? = nil
        UDPSocket.drainErrors(of: socket.fd, budget: 8) { _, error in
            if error != 0 { found = error }
        }
        return found
    }

    private func finish(_ id: Int, _ result: Result<SocketAddress, DNSError>) {
        guard let q = queries.removeValue(forKey: id) else { return }
        tearDown(q)
        q.completion(result)
    }

    private func tearDown(_ q: Query) {
        q.socket?.close()
        q.socket = nil
        if let timer = q.timer { reactor.cancel(timer) }
        q.timer = nil
    }

    // MARK: messages

    /// The labels of `name` in wire form (RFC 1035 §3.1), nil for a name that is not one
    /// (empty label, label over 63 bytes, name over 253, characters other than letters,
    /// digits, `-` and `_`).
    public static func encodeName(_ name: String) -> [UInt8]? {
        var bytes = Array(name.utf8)
        if bytes.last == 46 { bytes.removeLast() }
        if bytes.isEmpty || bytes.count > 253 { return nil }
        var out: [UInt8] = []
        for label in bytes.split(separator: 46, omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= 63 else { return nil }
            for c in label {
                let ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 95
                if !ok { return nil }
            }
            out.append(UInt8(label.count))
            out += label
        }
        out.append(0)
        return out
    }

    static func queryPacket(id: UInt16, name: String, type: UInt16) -> [UInt8] {
        var p: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        p += encodeName(name) ?? [0]
        p += [UInt8(type >> 8), UInt8(type & 0xff), 0, 1]
        return p
    }

    enum Answer: Equatable {
        /// Not an answer to this query (wrong id, not a response): keep waiting.
        case ignore
        case record(DNSRecord)
        /// The name exists but has no record of this type.
        case noData
        /// NXDOMAIN.
        case notFound
        /// The server failed (SERVFAIL, REFUSED, truncated, malformed): try the next one.
        case failed(String)
    }

    /// Reads a DNS response (RFC 1035 §4.1): the first answer record of `type` with class IN.
    static func parseAnswer(_ m: [UInt8], id: UInt16, type wanted: DNSRecordType) -> Answer {
        let type = wanted.rawValue
        guard m.count >= 12 else { return .ignore }
        guard UInt16(m[0]) << 8 | UInt16(m[1]) == id, m[2] & 0x80 != 0 else { return .ignore }
        if m[2] & 0x02 != 0 { return .failed("DNS answer truncated") }
        let rcode = m[3] & 0x0f
        if rcode == 3 { return .notFound }
        if rcode != 0 { return .failed("DNS server error (rcode " + String(rcode) + ")") }
        let questions = Int(m[4]) << 8 | Int(m[5])
        let answers = Int(m[6]) << 8 | Int(m[7])
        var i = 12
        for _ in 0..<questions {
            guard let next = skipName(m, i), next + 4 <= m.count else { return .failed("malformed DNS answer") }
            i = next + 4
        }
        for _ in 0..<answers {
            guard let next = skipName(m, i), next + 10 <= m.count else { return .failed("malformed DNS answer") }
            let rtype = UInt16(m[next]) << 8 | UInt16(m[next + 1])
            let rclass = UInt16(m[next + 2]) << 8 | UInt16(m[next + 3])
            let length = Int(m[next + 8]) << 8 | Int(m[next + 9])
            let data = next + 10
            guard data + length <= m.count else { return .failed("malformed DNS answer") }
            if rtype == type && rclass == 1 && length == (type == 1 ? 4 : 16) {
                return .record(.address(Array(m[data..<(data + length)])))
            }
            i = data + length
        }
        return .noData
    }

    /// The index after a (possibly compressed) name at `i`, nil when malformed.
    static func skipName(_ m: [UInt8], _ start: Int) -> Int? {
        var i = start
        var labels = 0
        while i < m.count {
            let length = m[i]
            if length == 0 { return i + 1 }
            if length & 0xC0 == 0xC0 { return i + 2 <= m.count ? i + 2 : nil }  // pointer ends the name here
            if length & 0xC0 != 0 { return nil }
            i += 1 + Int(length)
            labels += 1
            if labels > 127 { return nil }
        }
        return nil
    }
}
