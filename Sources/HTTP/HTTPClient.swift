import CLinux
import Digest
import Net
import Reactor
import TLS

/// A complete HTTP response (RFC 9112 §4-§6): status, reason phrase, header fields in the
/// order received, and the body with any chunked coding removed.
public struct HTTPResponse: CustomStringConvertible {
    public var status: Int
    public var reason: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, reason: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name` (compared ignoring ASCII case), nil when absent.
    public func header(_ name: String) -> String? {
        let lower = String(decoding: HTTPBytes.lowercased(Array(name.utf8)[...]), as: UTF8.self)
        for field in headers where HTTPBytes.isName(field.name, lower) { return field.value }
        return nil
    }

    /// Whether the status is 2xx: the server took the request.
    public var isSuccess: Bool { status >= 200 && status < 300 }

    public var description: String {
        var text = String(status)
        if !reason.isEmpty { text += " " + reason }
        text += " (" + String(body.count) + " body bytes)"
        if status >= 300 && status < 400, let location = header("Location") {
            text += " redirect not followed, to " + location
        }
        return text
    }
}

/// The outcome of one GET: a response (any status, 3xx included: redirects are not followed)
/// or why there is none.
public enum HTTPGetResult: CustomStringConvertible {
    case response(HTTPResponse)
    /// No response: "connection refused", "timeout after 5 s", "TLS: host name mismatch (wanted
    /// ...)", "authentication refused ...", "malformed response: ...", ...
    case failed(String)

    public var description: String {
        switch self {
        case .response(let response): return response.description
        case .failed(let reason): return "failed: " + reason
        }
    }

    /// The response, nil for a failure.
    public var response: HTTPResponse? {
        if case .response(let r) = self { return r }
        return nil
    }

    /// Why there is no response, nil when there is one.
    public var failure: String? {
        if case .failed(let why) = self { return why }
        return nil
    }
}

/// An HTTP/1.1 client for the GETs of URL record and provisioning (RFC 9110 §9.3.1, RFC 9112), on
/// the reactor: non-blocking connect, one request per connection (`Connection: close`), a
/// whole-request timeout, bounded responses. Several requests may run at once; every completion
/// runs on the loop, exactly once, unless cancelled. Host names need a `resolver`; `https` URLs
/// need `tls` (RFC 9110 §4.2.2: the certificate is checked against the URL's host). Redirects and
/// credentials (digest RFC 7616, basic RFC 7617) only with `HTTPRequestOptions`; no proxies.
public final class HTTPClient {
    private final class Request {
        let id: Int
        let url: HTTPURL
        let completion: (HTTPGetResult) -> Void
        var socket: OwnedDescriptor? = nil
        var timer: TimerID? = nil
        var connected = false
        var output: [UInt8] = []
        var outputSent = 0
        var parser: HTTPResponseParser
        /// The TLS session of an https request (nil for http: the plaintext path has no TLS step).
        var tls: TLSConnection? = nil
        /// Whether the socket is watched for writability (TLS: ciphertext waits to be sent).
        var watchingWritable = true

        init(id: Int, url: HTTPURL, bodyLimit: Int, completion: @escaping (HTTPGetResult) -> Void) {
            self.id = id
            self.url = url
            self.completion = completion
            var limits = HTTPResponseParser.Limits()
            limits.bodyBytes = max(0, bodyLimit)
            parser = HTTPResponseParser(limits: limits)
        }
    }

    private let reactor: Reactor
    private let userAgent: String
    /// Bounds each request from connect to the last body byte (a reload may change it; requests
    /// in flight keep theirs).
    public var timeoutNanoseconds: Int64 {
        didSet { timeoutNanoseconds = max(1, timeoutNanoseconds) }
    }
    private var requests: [Int: Request] = [:]
    /// Refused URLs whose completion runs on the next loop pass (dropped by `cancelAll`).
    private var refusals: [Int: (HTTPGetResult) -> Void] = [:]
    private var nextID = 1
    private var closed = false
    private var scratch = [UInt8](repeating: 0, count: 8192)

    /// `userAgent` goes into every request (control characters removed);
    /// `timeoutNanoseconds` bounds each request from connect to the last body byte.
    public init(reactor: Reactor, userAgent: String, timeoutNanoseconds: Int64 = 5_000_000_000) {
        self.reactor = reactor
        var agent: [UInt8] = []
        for b in userAgent.utf8 where b >= 32 && b != 127 { agent.append(b) }
        self.userAgent = String(decoding: agent, as: UTF8.self)
        self.timeoutNanoseconds = max(1, timeoutNanoseconds)
    }

    /// Number of requests in flight.
    public var activeRequests: Int { requests.count }

    /// Starts a GET of an absolute http:// or https:// URL; false (and nothing sent) when the URL is
    /// refused — the reason goes to completion on the next loop pass anyway. After `close()`
    /// nothing is started and the completion never runs.
    @discardableResult
    public func get(_ url: String, completion: @escaping (HTTPGetResult) -> Void) -> Bool {
        start(url, headers: [], bodyLimit: HTTPRequestOptions().maximumBodyBytes, completion: completion)
    }

    /// Starts a GET as `options` say: extra header fields, redirects followed up to
    /// `maximumRedirects` (each one a new request within its own timeout; credentials go only to
    /// the same scheme, host and port), a 401 answered once with `credentials`, a body limit. The
    /// completion gets the last response, or `.failed("more than N redirects ...")`,
    /// `.failed("authentication refused ...")`. Returns as `get(_:completion:)` does.
    @discardableResult
    public func get(
        _ url: String, options: HTTPRequestOptions, completion: @escaping (HTTPGetResult) -> Void
    ) -> Bool {
        follow(
            url, options: options, redirects: HTTPRedirects(maximum: options.maximumRedirects), answered: false,
            completion: completion)
    }

    private func follow(
        _ url: String, options: HTTPRequestOptions, redirects: HTTPRedirects, answered: Bool,
        completion: @escaping (HTTPGetResult) -> Void
    ) -> Bool {
        start(url, headers: options.headers, bodyLimit: options.maximumBodyBytes) { [self] result in
            guard case .response(let response) = result else {
                completion(result)
                return
            }
            if response.status == 401, let credentials = options.credentials {
                if answered {
                    completion(
                        .failed(
                            "authentication refused for user '" + credentials.user + "' (" + response.description
                                + ")"))
                    return
                }
                guard let authorization = HTTPAuthorization.answer(response, credentials: credentials, url: url) else {
                    completion(result)
                    return
                }
                var options = options
                options.headers.removeAll { HTTPBytes.isName($0.name, "authorization") }
                options.headers.append((name: "Authorization", value: authorization))
                _ = self.follow(url, options: options, redirects: redirects, answered: true, completion: completion)
                return
            }
            var redirects = redirects
            switch redirects.next(after: response, from: url) {
            case .done:
                completion(result)
            case .tooMany(let why):
                completion(.failed(why))
            case .follow(let next):
                var options = options
                // Other origins get no credentials; an answer to one URL's challenge is not for the next.
                let otherOrigin = HTTPClient.origin(next) != HTTPClient.origin(url)
                if otherOrigin || answered {
                    options.headers.removeAll { HTTPBytes.isName($0.name, "authorization") }
                }
                if otherOrigin { options.credentials = nil }
                _ = self.follow(next, options: options, redirects: redirects, answered: false, completion: completion)
            }
        }
    }

    /// "scheme://host[:port]" of an URL, nil when it does not parse.
    private static func origin(_ url: String) -> String? {
        if case .success(let parsed) = HTTPURL.parse(url) { return parsed.origin }
        return nil
    }

    private func start(
        _ url: String, headers: [(name: String, value: String)], bodyLimit: Int,
        completion: @escaping (HTTPGetResult) -> Void
    ) -> Bool {
        if closed { return false }
        let id = nextID
        nextID += 1
        let parsed: HTTPURL
        switch HTTPURL.parse(url) {
        case .success(let u):
            parsed = u
        case .failure(let error):
            deliverSoon(id, completion, .failed(error.description))
            return false
        }
        let request = Request(id: id, url: parsed, bodyLimit: bodyLimit, completion: completion)
        request.output = requestBytes(parsed, headers: headers)
        if parsed.isSecure {
            guard let tls else {
                deliverSoon(id, completion, .failed("https: no TLS settings in this client"))
                return false
            }
            do throws(TLSError) {
                let session = try tls.connection(serverName: parsed.serverName)
                // The request waits in the session until the handshake is done.
                _ = request.output.withUnsafeBytes { session.writePlaintext($0) }
                request.output = []
                request.tls = session
            } catch {
                deliverSoon(id, completion, .failed("TLS: " + error.reason))
                return false
            }
        }
        guard let address = parsed.address else {
            // A host name: resolve it first, within the request's timeout.
            guard let resolver, let name = parsed.hostName else {
                deliverSoon(
                    id, completion,
                    .failed(
                        "no DNS resolver for host name '" + (parsed.hostName ?? "")
                            + "': use the server's IP address"))
                return false
            }
            startTimer(request)
            requests[id] = request
            resolver.resolve(name, port: parsed.port) { [self] result in
                guard let r = self.requests[id] else { return }
                switch result {
                case .success(let address):
                    if let failure = self.connect(r, to: address) { self.finish(r, .failed(failure)) }
                case .failure(let error):
                    self.finish(r, .failed(error.description))
                }
            }
            return true
        }
        if let failure = connect(request, to: address) {
            deliverSoon(id, completion, .failed(failure))
            return true
        }
        startTimer(request)
        requests[id] = request
        return true
    }

    /// Resolves the host names of URLs; nil (the default): only IP literals are accepted.
    public var resolver: DNSResolver? = nil

    /// The trust store and client certificate of https URLs (shared with SIP over TLS); nil (the
    /// default): https URLs fail.
    public var tls: TLSClientProfile? = nil

    private func startTimer(_ request: Request) {
        let id = request.id
        request.timer = reactor.after(timeoutNanoseconds) { [self] in
            guard let r = self.requests[id] else { return }
            r.timer = nil
            self.finish(r, .failed("timeout after " + HTTPClient.durationText(self.timeoutNanoseconds)))
        }
    }

    /// Opens the socket and starts the connect; the failure text, or nil once under way.
    private func connect(_ request: Request, to address: SocketAddress) -> String? {
        let id = request.id
        let fd: Int32
        switch TCPConnect.start(to: address) {
        case .connected(let connected), .inProgress(let connected): fd = connected
        case .socketFailed(let errno): return HTTPClient.describe(errno: errno, call: "socket")
        case .connectFailed(let errno): return HTTPClient.describe(errno: errno, call: "connect")
        }
        let socket = OwnedDescriptor(fd, reactor: reactor)
        do {
            try socket.watch(for: [.readable, .writable]) { [self] events in
                self.ready(id, events)
            }
        } catch {
            socket.close()
            return HTTPClient.describe(errno: error.errno, call: "watch")
        }
        request.socket = socket
        return nil
    }

    /// Stops every request in flight and drops the pending completions (none of them runs).
    public func cancelAll() {
        for id in Array(requests.keys) {
            if let r = requests[id] { tearDown(r) }
        }
        requests.removeAll()
        refusals.removeAll()
    }

    /// Cancels everything and refuses further requests. Idempotent.
    public func close() {
        cancelAll()
        closed = true
    }

    // MARK: request

    private func requestBytes(_ url: HTTPURL, headers: [(name: String, value: String)]) -> [UInt8] {
        var text = "GET " + url.target + " HTTP/1.1\r\n"
        text += "Host: " + url.hostHeader + "\r\n"
        if !userAgent.isEmpty { text += "User-Agent: " + userAgent + "\r\n" }
        for field in headers {
            let name = HTTPClient.lineSafe(field.name, allowSpace: false)
            if name.isEmpty { continue }
            text += name + ": " + HTTPClient.lineSafe(field.value, allowSpace: true) + "\r\n"
        }
        text += "Accept: */*\r\n"
        text += "Connection: close\r\n\r\n"
        return Array(text.utf8)
    }

    private func deliverSoon(_ id: Int, _ completion: @escaping (HTTPGetResult) -> Void, _ result: HTTPGetResult) {
        refusals[id] = completion
        reactor.runSoon { [self] in
            guard let completion = self.refusals.removeValue(forKey: id) else { return }
            completion(result)
        }
    }

    // MARK: I/O

    private func ready(_ id: Int, _ events: IOEvents) {
        guard let r = requests[id], let socket = r.socket else { return }
        if !r.connected {
            let err = TCPConnect.result(socket.fd)
            if err < 0 {
                finish(r, .failed(HTTPClient.describe(errno: -err, call: "connect")))
                return
            }
            if events.contains(.writable) {
                r.connected = true
            } else if !events.isDisjoint(with: [.error, .hangUp]) {
                finish(r, .failed("connection refused"))
                return
            } else {
                return
            }
        }
        if r.tls != nil {
            exchangeTLS(r, events)
            return
        }
        if r.outputSent < r.output.count {
            if !flush(r) { return }
        }
        if !events.isDisjoint(with: [.readable, .hangUp, .error, .readHangUp]) {
            readAvailable(r)
        }
    }

    /// Sends what is queued; false once the request is finished (failed).
    private func flush(_ r: Request) -> Bool {
        guard let socket = r.socket else { return false }
        while r.outputSent < r.output.count {
            let n = r.output.withUnsafeBytes { buffer in
                cl_socket_send(socket.fd, buffer.baseAddress! + r.outputSent, buffer.count - r.outputSent)
            }
            if n < 0 {
                let err = Int32(-n)
                if err == EAGAIN || err == EWOULDBLOCK { return true }
                finish(r, .failed(HTTPClient.describe(errno: err, call: "send")))
                return false
            }
            r.outputSent += Int(n)
        }
        // All sent: from now on only the answer matters.
        r.output = []
        r.outputSent = 0
        do {
            try socket.update(.readable)
        } catch {
            finish(r, .failed(HTTPClient.describe(errno: error.errno, call: "watch")))
            return false
        }
        return true
    }

    private func readAvailable(_ r: Request) {
        guard let socket = r.socket else { return }
        var progress = HTTPResponseParser.Progress.incomplete
        let end = readBurst(r, socket) { bytes in
            progress = r.parser.append(bytes)
            return progress == .incomplete
        }
        switch end {
        case .closed: complete(r, r.parser.finish())
        case .stopped: complete(r, progress)
        case .drained, .failed: return
        }
    }

    /// How a burst of reads from a socket ended.
    private enum ReadEnd {
        /// Nothing more to read now (or the burst's budget is spent).
        case drained
        /// The peer closed its side.
        case closed
        /// A receive error: the request is finished.
        case failed
        /// `take` asked to stop.
        case stopped
    }

    /// Reads at most 16 chunks from `socket`, giving each to `take` (false: stop reading); a
    /// receive error finishes the request.
    private func readBurst(
        _ r: Request, _ socket: OwnedDescriptor, _ take: (UnsafeRawBufferPointer) -> Bool
    ) -> ReadEnd {
        var budget = 16
        while budget > 0 {
            budget -= 1
            let n = scratch.withUnsafeMutableBytes { cl_socket_receive(socket.fd, $0.baseAddress, $0.count) }
            if n == 0 { return .closed }
            if n < 0 {
                let err = Int32(-n)
                if err == EAGAIN || err == EWOULDBLOCK { return .drained }
                finish(r, .failed(HTTPClient.describe(errno: err, call: "recv")))
                return .failed
            }
            let more = scratch.withUnsafeBytes { take(UnsafeRawBufferPointer(rebasing: $0[0..<Int(n)])) }
            if !more { return .stopped }
        }
        return .drained
    }

    // MARK: TLS

    /// One pass of an https request: ciphertext in, the session advanced, plaintext to the
    /// parser, ciphertext out; ends the request on a TLS failure or the end of the answer.
    private func exchangeTLS(_ r: Request, _ events: IOEvents) {
        guard let socket = r.socket, let session = r.tls else { return }
        var ended = false
        if !events.isDisjoint(with: [.readable, .hangUp, .error, .readHangUp]) {
            let end = readBurst(r, socket) { bytes in
                session.receiveCiphertext(bytes)
                return true
            }
            switch end {
            case .failed: return
            case .closed: ended = true
            case .drained, .stopped: break
            }
        }
        let state = session.advance()
        while true {
            let n = scratch.withUnsafeMutableBytes { session.readPlaintext(into: $0) }
            if n == 0 { break }
            let progress = scratch.withUnsafeBytes { r.parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            if progress != .incomplete {
                complete(r, progress)
                return
            }
        }
        switch state {
        case .failed(let error):
            finish(r, .failed("TLS: " + error.reason))
            return
        case .closed:
            complete(r, r.parser.finish())
            return
        case .handshaking:
            if ended {
                finish(r, .failed("TLS: connection closed during the handshake"))
                return
            }
        case .established:
            if ended {
                // No close_notify: the answer is complete only if its framing says so.
                complete(r, r.parser.finish())
                return
            }
        }
        sendCiphertext(r, session, socket)
    }

    /// Sends the session's pending ciphertext; watches for writability while some is left.
    private func sendCiphertext(_ r: Request, _ session: TLSConnection, _ socket: OwnedDescriptor) {
        while true {
            if r.outputSent == r.output.count {
                r.output.removeAll(keepingCapacity: true)
                r.outputSent = 0
                let pending = session.pendingCiphertext
                if pending == 0 { break }
                r.output = [UInt8](repeating: 0, count: pending)
                let got = r.output.withUnsafeMutableBytes { session.takeCiphertext(into: $0) }
                r.output.removeLast(pending - got)
                if got == 0 { break }
            }
            let n = r.output.withUnsafeBytes { buffer in
                cl_socket_send(socket.fd, buffer.baseAddress! + r.outputSent, buffer.count - r.outputSent)
            }
            if n < 0 {
                let err = Int32(-n)
                if err == EAGAIN || err == EWOULDBLOCK { break }
                finish(r, .failed(HTTPClient.describe(errno: err, call: "send")))
                return
            }
            r.outputSent += Int(n)
        }
        let wantWritable = r.outputSent < r.output.count
        if wantWritable == r.watchingWritable { return }
        do {
            try socket.update(wantWritable ? [.readable, .writable] : .readable)
            r.watchingWritable = wantWritable
        } catch {
            finish(r, .failed(HTTPClient.describe(errno: error.errno, call: "watch")))
        }
    }

    private func complete(_ r: Request, _ progress: HTTPResponseParser.Progress) {
        switch progress {
        case .complete: finish(r, .response(r.parser.response))
        case .failed(let why): finish(r, .failed(why))
        case .incomplete: finish(r, .failed("malformed response: incomplete"))
        }
    }

    /// Releases the request's socket, watch and timer, then runs its completion.
    private func finish(_ r: Request, _ result: HTTPGetResult) {
        guard requests.removeValue(forKey: r.id) != nil else { return }
        tearDown(r)
        r.completion(result)
    }

    private func tearDown(_ r: Request) {
        r.tls = nil
        r.socket?.close()
        r.socket = nil
        if let timer = r.timer { reactor.cancel(timer) }
        r.timer = nil
    }

    // MARK: texts

    /// `text` without control characters (and without blanks and ':' for a field name).
    static func lineSafe(_ text: String, allowSpace: Bool) -> String {
        var bytes: [UInt8] = []
        for b in text.utf8 where b >= 32 && b != 127 {
            if !allowSpace && (b == 32 || b == 58) { continue }
            bytes.append(b)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func describe(errno err: Int32, call: String) -> String { SocketError.text(errno: err, call: call) }

    /// "5 s", "300 ms", "1500 ms".
    static func durationText(_ nanoseconds: Int64) -> String {
        if nanoseconds % 1_000_000_000 == 0 { return String(nanoseconds / 1_000_000_000) + " s" }
        if nanoseconds >= 1_000_000 { return String(nanoseconds / 1_000_000) + " ms" }
        return String(nanoseconds) + " ns"
    }
}
