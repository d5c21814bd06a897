import CLinux
import Config
import Reactor

/// Why a name did not resolve (the text shown to the user): "host name 'x' not found",
/// "cannot resolve 'x': no DNS server configured", ...
public struct DNSError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A small non-blocking stub resolver on the reactor (record URL hosts, SIP servers by RFC 3263):
/// `/etc/hosts` first for addresses, then DNS queries (RFC 1035 §4.1, recursion desired) over
/// UDP to each configured name server in turn; an answer with TC set is asked again over TCP
/// (RFC 1035 §4.2.2, RFC 7766), non-blocking. Answers are cached for their TTL (clamped to
/// `maximumTTLSeconds`, at most `cacheCapacity` entries). No search domains.
public final class DNSResolver {
    private final class Query {
        let id: Int
        let name: String
        let type: DNSRecordType
        let completion: (Result<[DNSRecord], DNSError>) -> Void
        var serverIndex = 0
        var transaction: UInt16 = 0
        var socket: OwnedDescriptor? = nil
        var timer: TimerID? = nil
        var lastError = ""
        /// Over TCP after a truncated UDP answer: the framed query still to send, the answer read.
        var overTCP = false
        var connected = false
        var output: [UInt8] = []
        var outputSent = 0
        var input: [UInt8] = []

        init(id: Int, name: String, type: DNSRecordType, completion: @escaping (Result<[DNSRecord], DNSError>) -> Void) {
            self.id = id
            self.name = name
            self.type = type
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
    private var cache: DNSCache
    /// One line per query sent, answer cached or server given up (nil: silent).
    public var onLog: ((String) -> Void)?
    /// The largest TTL kept (an absurd TTL, say 68 years, is cut to this), seconds.
    public static let maximumTTLSeconds: UInt32 = 3600
    /// How many answers the cache keeps (the soonest to expire goes first).
    public static let cacheCapacity = 64

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
        self.cache = DNSCache(capacity: DNSResolver.cacheCapacity, maximumTTL: DNSResolver.maximumTTLSeconds)
    }

    /// A resolver configured like the system's: the `nameserver` lines of `/etc/resolv.conf`
    /// (a missing file means none) unless `nameservers` is given, and `/etc/hosts`. Reads two
    /// small local files once.
    public static func system(reactor: Reactor, nameservers given: [SocketAddress] = []) -> DNSResolver {
        var servers = given
        if servers.isEmpty, let text = try? FileText.read("/etc/resolv.conf", limit: 65536) {
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

    /// A name server as provisioning gives it: an IP literal, port 53 (`192.0.2.53`, `2001:db8::35`),
    /// or with a port (`127.0.0.1:5353`, `[::1]:5353`); nil for anything else.
    public static func nameserver(_ text: String) -> SocketAddress? {
        if let plain = SocketAddress(literal: text, port: 53) { return plain }
        let bytes = Array(text.utf8)
        guard let colon = bytes.lastIndex(of: 58), let port = UInt16(String(decoding: bytes[(colon + 1)...], as: UTF8.self)),
            port > 0
        else { return nil }
        var host = bytes[..<colon]
        if host.first == 91 && host.last == 93 {
            host = host.dropFirst().dropLast()
        } else if host.contains(58) {
            return nil  // IPv6 with a port needs brackets
        }
        return SocketAddress(literal: String(decoding: host, as: UTF8.self), port: port)
    }

    /// Resolves `name` to one address (A, else AAAA); the completion runs on the loop (never
    /// inside this call), exactly once unless `cancelAll()` runs first.
    public func resolve(
        _ name: String, port: UInt16, completion: @escaping (Result<SocketAddress, DNSError>) -> Void
    ) {
        if let address = lookUpHosts(name, port: port) {
            reactor.runSoon { completion(.success(address)) }
            return
        }
        query(name, type: .a) { [self] result in
            switch result {
            case .failure(let error): completion(.failure(error))
            case .success(let records):
                if let address = DNSResolver.firstAddress(records, port: port) {
                    completion(.success(address))
                    return
                }
                self.query(name, type: .aaaa) { result in
                    switch result {
                    case .failure(let error): completion(.failure(error))
                    case .success(let records):
                        if let address = DNSResolver.firstAddress(records, port: port) {
                            completion(.success(address))
                        } else {
                            completion(.failure(DNSError("host name '" + name + "' has no address")))
                        }
                    }
                }
            }
        }
    }

    static func firstAddress(_ records: [DNSRecord], port: UInt16) -> SocketAddress? {
        for record in records {
            if case .address(let bytes) = record, let a = SocketAddress(bytes: bytes, port: port) { return a }
        }
        return nil
    }

    /// Asks for the records of `type` for `name` (from the cache while their TTL lasts, else
    /// from the name servers); an empty list means the name has none of that type. A and AAAA
    /// questions are answered from `/etc/hosts` first. The completion runs on the loop, never
    /// inside this call, exactly once unless `cancelAll()` runs first.
    public func query(
        _ name: String, type: DNSRecordType, completion: @escaping (Result<[DNSRecord], DNSError>) -> Void
    ) {
        let id = nextID
        nextID += 1
        let query = Query(id: id, name: name, type: type, completion: completion)
        queries[id] = query
        if type == .a || type == .aaaa, let address = lookUpHosts(name, port: 0),
            (address.family == 4) == (type == .a)
        {
            reactor.runSoon { [self] in self.finish(id, .success([.address(address.address)])) }
            return
        }
        guard let key = DNSResolver.encodeName(name) else {
            reactor.runSoon { [self] in
                self.finish(
                    id, .failure(DNSError("bad host name '" + ASCIIText.printable(Array(name.utf8)[...]) + "'")))
            }
            return
        }
        if let records = cache.lookUp(ASCIIText.lowercased(key[...]), type: type, now: reactor.now) {
            reactor.runSoon { [self] in self.finish(id, .success(records)) }
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

    /// Answers cached now (for tests and the status log).
    public var cachedAnswerCount: Int { cache.count }
    /// Questions sent to name servers so far (UDP and TCP, every server tried).
    public private(set) var questionsSent = 0

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

    /// Gives up on the current server with `why` and asks the next one (over UDP).
    private func nextServer(_ q: Query, _ why: String) {
        q.lastError = why
        q.serverIndex += 1
        q.overTCP = false
        send(q.id)
    }

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
        let packet = DNSMessage.queryPacket(id: random, name: q.name, type: q.type.rawValue)
        questionsSent += 1
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
        startTimer(q, server)
    }

    private func startTimer(_ q: Query, _ server: SocketAddress) {
        if let timer = q.timer { reactor.cancel(timer) }
        let id = q.id
        q.timer = reactor.after(attemptNanoseconds) { [self] in
            guard let q = self.queries[id] else { return }
            q.timer = nil
            self.nextServer(q, "no answer from DNS server " + server.description + (q.overTCP ? " over TCP" : ""))
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
                        nextServer(q, SocketError.text(errno: icmp, call: "DNS server " + server.description))
                    }
                    return
                }
                // ICMP port unreachable and the like: try the next server.
                nextServer(q, SocketError.text(errno: err, call: "DNS server " + server.description))
                return
            }
            let count = Int(n)
            let sender = SocketAddress(family: family, bytes: from, port: port)
            // Only an answer from the server we asked, to our transaction, counts.
            guard sender == server, count <= buffer.count else { continue }
            let answer = DNSMessage.parse(Array(buffer[0..<count]), id: q.transaction, type: q.type)
            if answer == .ignore { continue }
            handle(q, answer, server)
            return
        }
    }

    private func handle(_ q: Query, _ answer: DNSAnswer, _ server: SocketAddress) {
        switch answer {
        case .ignore:
            return
        case .records(let records, let ttl):
            if let key = DNSResolver.encodeName(q.name) {
                cache.insert(ASCIIText.lowercased(key[...]), type: q.type, records, ttl: ttl, now: reactor.now)
            }
            finish(q.id, .success(records))
        case .noData:
            finish(q.id, .success([]))
        case .notFound:
            finish(q.id, .failure(DNSError("host name '" + q.name + "' not found")))
        case .truncated:
            if q.overTCP {
                nextServer(q, "DNS answer truncated over TCP from " + server.description)
            } else {
                onLog?(
                    "DNS: " + q.type.description + " answer for '" + q.name + "' from " + server.description
                        + " truncated, asking again over TCP")
                startTCP(q, server)
            }
        case .failed(let why):
            nextServer(q, why)
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

    // MARK: DNS over TCP (RFC 1035 §4.2.2: a two-byte length before each message)

    private func startTCP(_ q: Query, _ server: SocketAddress) {
        tearDown(q)
        q.overTCP = true
        q.connected = false
        var random: UInt16 = 0
        _ = withUnsafeMutableBytes(of: &random) { cl_getrandom($0.baseAddress, 2) }
        q.transaction = random
        let packet = DNSMessage.queryPacket(id: random, name: q.name, type: q.type.rawValue)
        q.output = [UInt8(packet.count >> 8), UInt8(packet.count & 0xff)] + packet
        questionsSent += 1
        q.outputSent = 0
        q.input = []
        let fd: Int32
        switch TCPConnect.start(to: server) {
        case .connected(let descriptor):
            fd = descriptor
            q.connected = true
        case .inProgress(let descriptor):
            fd = descriptor
        case .socketFailed(let err):
            nextServer(q, SocketError.text(errno: err, call: "socket"))
            return
        case .connectFailed(let err):
            nextServer(q, SocketError.text(errno: err, call: "DNS server " + server.description + " over TCP"))
            return
        }
        let socket = OwnedDescriptor(fd, reactor: reactor)
        q.socket = socket
        let id = q.id
        do {
            try socket.watch(for: [.writable, .readable]) { [self] events in self.tcpReady(id, events) }
        } catch {
            nextServer(q, SocketError.text(errno: error.errno, call: "watch"))
            return
        }
        startTimer(q, server)
    }

    private func tcpReady(_ id: Int, _ events: IOEvents) {
        guard let q = queries[id], let socket = q.socket else { return }
        let server = nameservers[q.serverIndex]
        if !q.connected {
            let err = TCPConnect.result(socket.fd)
            if err < 0 {
                nextServer(q, SocketError.text(errno: -err, call: "DNS server " + server.description + " over TCP"))
                return
            }
            guard events.contains(.writable) else {
                if !events.isDisjoint(with: [.error, .hangUp]) {
                    nextServer(q, "DNS server " + server.description + " refused TCP")
                }
                return
            }
            q.connected = true
        }
        while q.outputSent < q.output.count {
            let n = q.output.withUnsafeBytes { b in
                cl_socket_send(socket.fd, b.baseAddress! + q.outputSent, b.count - q.outputSent)
            }
            if n < 0 {
                let err = Int32(-n)
                if err == EAGAIN || err == EWOULDBLOCK { return }
                nextServer(q, SocketError.text(errno: err, call: "send to DNS server " + server.description))
                return
            }
            q.outputSent += Int(n)
            if q.outputSent == q.output.count {
                do {
                    try socket.update(.readable)
                } catch {
                    nextServer(q, SocketError.text(errno: error.errno, call: "watch"))
                    return
                }
            }
        }
        guard !events.isDisjoint(with: [.readable, .hangUp, .error, .readHangUp]) else { return }
        var chunk = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<32 {
            let n = chunk.withUnsafeMutableBytes { cl_socket_receive(socket.fd, $0.baseAddress, $0.count) }
            if n < 0 {
                let err = Int32(-n)
                if err == EAGAIN || err == EWOULDBLOCK { return }
                nextServer(q, SocketError.text(errno: err, call: "DNS server " + server.description + " over TCP"))
                return
            }
            if n == 0 {
                nextServer(q, "DNS server " + server.description + " closed the TCP connection before answering")
                return
            }
            q.input += chunk[0..<Int(n)]
            guard q.input.count >= 2 else { continue }
            let length = Int(q.input[0]) << 8 | Int(q.input[1])
            guard q.input.count >= 2 + length else { continue }
            let answer = DNSMessage.parse(Array(q.input[2..<(2 + length)]), id: q.transaction, type: q.type)
            if answer == .ignore {
                nextServer(q, "DNS answer over TCP from " + server.description + " is not for our query")
            } else {
                handle(q, answer, server)
            }
            return
        }
    }

    private func finish(_ id: Int, _ result: Result<[DNSRecord], DNSError>) {
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

    // MARK: names

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
}

/// The resolver's answer cache: records by (wire name, type) until their TTL runs out, the TTL
/// clamped to `maximumTTL`; when full, the entry that expires soonest makes room.
struct DNSCache {
    private struct Entry {
        var name: [UInt8]
        var type: DNSRecordType
        var records: [DNSRecord]
        var expires: Int64
    }
    private var entries: [Entry] = []
    let capacity: Int
    let maximumTTL: UInt32

    init(capacity: Int, maximumTTL: UInt32) {
        self.capacity = max(1, capacity)
        self.maximumTTL = maximumTTL
    }

    var count: Int { entries.count }

    /// The records still valid at `now` (nanoseconds), nil when none are cached.
    mutating func lookUp(_ name: [UInt8], type: DNSRecordType, now: Int64) -> [DNSRecord]? {
        entries.removeAll { $0.expires <= now }
        for entry in entries where entry.type == type && entry.name == name { return entry.records }
        return nil
    }

    /// Keeps `records` for `ttl` seconds (at most `maximumTTL`); a TTL of 0 is not cached.
    mutating func insert(_ name: [UInt8], type: DNSRecordType, _ records: [DNSRecord], ttl: UInt32, now: Int64) {
        let seconds = min(ttl, maximumTTL)
        guard seconds > 0 else { return }
        entries.removeAll { ($0.type == type && $0.name == name) || $0.expires <= now }
        if entries.count >= capacity, let soonest = entries.indices.min(by: { entries[$0].expires < entries[$1].expires })
        {
            entries.remove(at: soonest)
        }
        entries.append(Entry(name: name, type: type, records: records, expires: now + Int64(seconds) * 1_000_000_000))
    }
}
