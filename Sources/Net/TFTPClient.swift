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
        let prefix: StaticString = "tftp://"
        guard bytes.count > prefix.utf8CodeUnitCount else { return nil }
        for index in 0..<prefix.utf8CodeUnitCount where bytes[index] | 0x20 != prefix.utf8Start[index] | 0x20 {
            return nil
        }
        let start = prefix.utf8CodeUnitCount
        guard let slash = bytes[start...].firstIndex(of: UInt8(ascii: "/")), slash + 1 < bytes.count else { return nil }
        for byte in bytes[(slash + 1)...] where byte == 0 || byte == UInt8(ascii: ";") { return nil }
        // host, [v6], host:port or [v6]:port
        var hostEnd = slash
        var portStart: Int? = nil
        var hostStart = start
        if bytes[start] == UInt8(ascii: "[") {
            guard let close = bytes[start..<slash].firstIndex(of: UInt8(ascii: "]")) else { return nil }
            hostStart = start + 1
            hostEnd = close
            if close + 1 < slash {
                guard bytes[close + 1] == UInt8(ascii: ":") else { return nil }
                portStart = close + 2
            }
        } else if let colon = bytes[start..<slash].firstIndex(of: UInt8(ascii: ":")) {
            hostEnd = colon
            portStart = colon + 1
        }
        guard hostStart < hostEnd else { return nil }
        port = 69
        if let portStart {
            var value = 0
            guard portStart < slash, slash - portStart <= 5 else { return nil }
            for byte in bytes[portStart..<slash] {
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            guard value > 0 && value <= 65535 else { return nil }
            port = UInt16(value)
        }
        host = String(decoding: bytes[hostStart..<hostEnd], as: UTF8.self)
        fileName = String(decoding: bytes[(slash + 1)...], as: UTF8.self)
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
