// The TFTP edge on the reactor: parses a `tftp://` URL (RFC 3617), resolves its host, and runs a
// `TFTPTransfer` over its own UDP socket with a retransmission timer and an overall deadline.

import Reactor

/// How a TFTP read ended.
public enum TFTPResult {
    case file([UInt8])
    case failed(TFTPFailure)
    /// Before any transfer: a bad URL, a name that does not resolve, a socket that cannot open.
    case refused(String)
}

/// `tftp://host[:port]/file` (RFC 3617; `;mode=` is not accepted: octet is the only mode a
/// configuration file needs). The file name is the path after the host's "/".
public struct TFTPURL: Equatable, Sendable {
    public var host: String
    public var port: UInt16
    public var fileName: String

    /// Nil for anything else than a tftp URL with a host and a file name.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        let prefix = Array("tftp://".utf8)
        guard bytes.count > prefix.count,
            TFTPTransfer.lowercased(String(decoding: bytes[0..<prefix.count], as: UTF8.self)) == "tftp://"
        else { return nil }
        let rest = bytes[prefix.count...]
        guard let slash = rest.firstIndex(of: UInt8(ascii: "/")) else { return nil }
        var authority = rest[..<slash]
        let file = rest[(slash + 1)...]
        guard !file.isEmpty, !file.contains(0), !file.contains(UInt8(ascii: ";")) else { return nil }
        port = 69
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            let after = authority[(close + 1)...]
            if !after.isEmpty {
                guard after.first == UInt8(ascii: ":"), let p = UInt16(String(decoding: after.dropFirst(), as: UTF8.self)),
                    p > 0
                else { return nil }
                port = p
            }
            authority = authority[(authority.startIndex + 1)..<close]
        } else if let colon = authority.firstIndex(of: UInt8(ascii: ":")) {
            guard let p = UInt16(String(decoding: authority[(colon + 1)...], as: UTF8.self)), p > 0 else { return nil }
            port = p
            authority = authority[..<colon]
        }
        guard !authority.isEmpty else { return nil }
        host = String(decoding: authority, as: UTF8.self)
        fileName = String(decoding: file, as: UTF8.self)
    }
}

/// Reads files by TFTP on the reactor, each over its own UDP socket: the request goes to the
/// URL's port, the transfer continues with the port the server answers from. A silence of
/// `retransmitNanoseconds` sends the last packet again (at most `TFTPTransfer.maximumRetransmissions`
/// times); `timeoutNanoseconds` bounds the whole read.
public final class TFTPClient {
    private final class Read {
        let id: Int
        var transfer: TFTPTransfer
        let completion: (TFTPResult) -> Void
        var server: SocketAddress? = nil
        var socket: UDPSocket? = nil
        var retransmitTimer: TimerID? = nil
        var deadline: TimerID? = nil

        init(id: Int, transfer: TFTPTransfer, completion: @escaping (TFTPResult) -> Void) {
            self.id = id
            self.transfer = transfer
            self.completion = completion
        }
    }

    private let reactor: Reactor
    /// Names in URLs are resolved with it (nil: IP literals only).
    public var resolver: DNSResolver?
    public var retransmitNanoseconds: Int64
    public var timeoutNanoseconds: Int64
    private var reads: [Int: Read] = [:]
    private var nextID = 1
    private var buffer = [UInt8](repeating: 0, count: TFTPTransfer.requestedBlockSize + 4)

    public init(
        reactor: Reactor, resolver: DNSResolver? = nil, retransmitNanoseconds: Int64 = 1_000_000_000,
        timeoutNanoseconds: Int64 = 10_000_000_000
    ) {
        self.reactor = reactor
        self.resolver = resolver
        self.retransmitNanoseconds = retransmitNanoseconds
        self.timeoutNanoseconds = timeoutNanoseconds
    }

    /// Number of reads in flight.
    public var pendingCount: Int { reads.count }

    /// Reads `url`'s file (at most `maximumBytes`); `completion` runs once, on the loop, unless
    /// `cancelAll()` or `close()` runs first.
    public func get(_ url: String, maximumBytes: Int, completion: @escaping (TFTPResult) -> Void) {
        guard let parsed = TFTPURL(url) else {
            reactor.runSoon { completion(.refused("not a tftp://host[:port]/file URL: " + url)) }
            return
        }
        let read = Read(
            id: nextID, transfer: TFTPTransfer(fileName: parsed.fileName, maximumBytes: maximumBytes),
            completion: completion)
        nextID += 1
        reads[read.id] = read
        read.deadline = reactor.after(timeoutNanoseconds) { [self] in
            read.deadline = nil
            self.finish(read, .failed(.noAnswer))
        }
        if let literal = SocketAddress(literal: parsed.host, port: parsed.port) {
            reactor.runSoon { [self] in self.start(read, literal) }
        } else if let resolver {
            resolver.resolve(parsed.host, port: parsed.port) { [self] result in
                guard self.reads[read.id] != nil else { return }
                switch result {
                case .success(let address): self.start(read, address)
                case .failure(let error): self.finish(read, .refused(error.description))
                }
            }
        } else {
            reactor.runSoon { [self] in self.finish(read, .refused("no resolver for host name '" + parsed.host + "'")) }
        }
    }

    private func start(_ read: Read, _ server: SocketAddress) {
        guard reads[read.id] != nil else { return }
        let any = server.isIPv6 ? SocketAddress(literal: "::", port: 0)! : SocketAddress(ipv4: 0, 0, 0, 0, port: 0)
        do throws(SocketError) {
            let socket = try UDPSocket(reactor: reactor, bind: any, v6Only: server.isIPv6)
            read.socket = socket
            read.server = server
            do throws(ReactorError) {
                try socket.watch { [self] ready in self.readable(read, ready) }
            } catch {
                finish(read, .refused("cannot watch the TFTP socket: " + error.description))
                return
            }
        } catch {
            finish(read, .refused("cannot open a TFTP socket: " + error.description))
            return
        }
        let request = read.transfer.request
        send(read, request, to: server)
        armRetransmit(read)
    }

    private func readable(_ read: Read, _ ready: IOEvents) {
        guard let socket = read.socket, let server = read.server else { return }
        // An ICMP error (port or host unreachable) about what we sent: nobody serves TFTP there.
        var unreachable = false
        if ready.contains(.error) { socket.drainErrors { _, _ in unreachable = true } }
        var budget = 16
        while budget > 0, reads[read.id] != nil, !unreachable {
            budget -= 1
            let received = buffer.withUnsafeMutableBytes { raw in
                socket.receive(into: raw, attempts: 2) { _, _ in unreachable = true }
            }
            guard let (count, source) = received else { break }
            // Only the server's host takes part; another host is ignored (RFC 1350 §4 answers
            // strangers on the same host with ERROR 5, below).
            guard source.hasSameHost(as: server) else { continue }
            let step = buffer.withUnsafeBytes { raw in
                read.transfer.receive(UnsafeRawBufferPointer(rebasing: raw[0..<min(count, raw.count)]), fromPort: source.port)
            }
            apply(step, read, server)
        }
        if unreachable { finish(read, .refused("no TFTP server at " + server.description + " (ICMP unreachable)")) }
    }

    private func apply(_ step: TFTPTransfer.Step, _ read: Read, _ server: SocketAddress) {
        let transferPort = read.transfer.serverPort ?? server.port
        switch step {
        case .none:
            return
        case .send(let packet):
            send(read, packet, to: server.with(port: transferPort))
            armRetransmit(read)
        case .refuse(let packet, let port):
            send(read, packet, to: server.with(port: port))
        case .finished(let lastAck):
            send(read, lastAck, to: server.with(port: transferPort))
            finish(read, .file(read.transfer.data))
        case .failed(let failure, let packet):
            if let packet { send(read, packet, to: server.with(port: transferPort)) }
            finish(read, .failed(failure))
        }
    }

    private func armRetransmit(_ read: Read) {
        if let timer = read.retransmitTimer { reactor.cancel(timer) }
        read.retransmitTimer = reactor.after(retransmitNanoseconds) { [self] in
            read.retransmitTimer = nil
            guard self.reads[read.id] != nil, let server = read.server else { return }
            self.apply(read.transfer.timeout(), read, server)
        }
    }

    private func send(_ read: Read, _ packet: [UInt8], to destination: SocketAddress) {
        guard let socket = read.socket else { return }
        _ = packet.withUnsafeBytes { socket.send($0, to: destination) { _, _ in } }
    }

    private func finish(_ read: Read, _ result: TFTPResult) {
        guard reads.removeValue(forKey: read.id) != nil else { return }
        release(read)
        read.completion(result)
    }

    private func release(_ read: Read) {
        read.socket?.close()
        read.socket = nil
        for timer in [read.retransmitTimer, read.deadline] { if let timer { reactor.cancel(timer) } }
        read.retransmitTimer = nil
        read.deadline = nil
    }

    /// Drops every read in flight; no completion runs.
    public func cancelAll() {
        let all = reads.values
        reads = [:]
        for read in all { release(read) }
    }

    public func close() { cancelAll() }
}
