// Message framing on stream transports (TCP): RFC 3261 §18.3 and the CRLF keep-alive of
// RFC 5626 §3.5.1.

/// Why a stream can no longer be framed. Every case is fatal for the connection: the stream
/// has lost its message boundaries and the transport closes it (RFC 3261 §18.3).
public enum SIPStreamFramingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The header block is longer than the configured limit without its empty line.
    case headerTooLarge(limit: Int)
    /// Header block plus Content-Length exceed the configured message limit.
    case messageTooLarge(size: Int, limit: Int)
    /// A message without Content-Length: on a stream its end cannot be found (§18.3).
    case missingContentLength
    /// Content-Length is not a decimal number, or two Content-Length headers disagree.
    case invalidContentLength

    public var description: String {
        switch self {
        case .headerTooLarge(let limit):
            return "header block exceeds " + String(limit) + " bytes"
        case .messageTooLarge(let size, let limit):
            return "message of " + String(size) + " bytes exceeds the limit of " + String(limit)
        case .missingContentLength:
            return "message on a stream without Content-Length"
        case .invalidContentLength:
            return "invalid Content-Length"
        }
    }
}

/// One unit cut out of a SIP byte stream by `SIPStreamFramer` (RFC 3261 §18.3, RFC 5626 §3.5.1).
public enum SIPStreamFrame: Equatable, Sendable, CustomStringConvertible {
    /// One whole message: the header block and exactly Content-Length body bytes.
    case message([UInt8])
    /// A CRLFCRLF keep-alive ping (RFC 5626 §3.5.1): answer with a CRLF pong.
    case ping
    /// A lone CRLF keep-alive pong (reported only by framers in the client role).
    case pong

    public var description: String {
        switch self {
        case .message(let bytes): return "message(" + String(bytes.count) + " bytes)"
        case .ping: return "ping"
        case .pong: return "pong"
        }
    }
}

/// Cuts a SIP byte stream (TCP) into messages (RFC 3261 §18.3): a message is its header block,
/// up to the first empty line, followed by exactly Content-Length body bytes; Content-Length
/// (full or compact name `l`, any case, possibly on folded lines) is required on streams.
/// Bare LF line ends are tolerated. Between messages, CRLFCRLF is a keep-alive ping and a lone
/// CRLF is a pong or padding (RFC 5626 §3.5.1, RFC 3261 §7.5).
///
/// Bytes go in with `append`, frames come out with `next()`. Each byte is scanned once (the
/// search for the empty line resumes where it stopped) and the buffer is reused, so framing
/// allocates per message (the message's own array), never per byte. After an error the framer
/// stays failed; the connection is to be closed.
public struct SIPStreamFramer {
    /// The size limits of one message (RFC 3261 §18.3 leaves them to the implementation).
    public struct Limits: Equatable, Sendable {
        /// Maximum bytes of the header block, start line and empty line included.
        public var maxHeaderBytes: Int
        /// Maximum bytes of a whole message, header block plus body.
        public var maxMessageBytes: Int

        public init(maxHeaderBytes: Int = 16 * 1024, maxMessageBytes: Int = 64 * 1024) {
            self.maxHeaderBytes = maxHeaderBytes
            self.maxMessageBytes = max(maxHeaderBytes, maxMessageBytes)
        }
    }

    public let limits: Limits
    /// A framer in the client role (we opened the connection) reports a lone CRLF as a pong at
    /// once; in the server role a lone CRLF waits for the next bytes, which may complete a ping.
    public let reportsPongs: Bool

    private var buffer: [UInt8] = []
    /// Start of the unconsumed bytes in `buffer`.
    private var start = 0
    /// Where the search for the end of the header block resumes (absolute index).
    private var scanFrom = 0
    /// Total length of the current message once its header block has been read.
    private var pendingLength: Int? = nil
    private var failure: SIPStreamFramingError? = nil

    public init(limits: Limits = Limits(), reportsPongs: Bool = false) {
        self.limits = limits
        self.reportsPongs = reportsPongs
    }

    /// Bytes waiting to complete a frame.
    public var bufferedCount: Int { buffer.count - start }

    /// Whether a message has started but is not complete (for the slow-sender timeout).
    public var hasPartialMessage: Bool {
        var i = start
        while i < buffer.count && (buffer[i] == 13 || buffer[i] == 10) { i += 1 }
        return i < buffer.count
    }

    /// The error that stopped this framer, if any.
    public var error: SIPStreamFramingError? { failure }

    /// Adds bytes read from the stream.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if failure != nil || bytes.isEmpty { return }
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Adds bytes read from the stream.
    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The next complete frame, nil when more bytes are needed. Throws once the stream is
    /// beyond repair (and again on every later call).
    public mutating func next() throws(SIPStreamFramingError) -> SIPStreamFrame? {
        if let failure { throw failure }
        if pendingLength == nil {
            if let frame = keepAlive() { return frame }
            if start == buffer.count { return nil }
            guard let headerEnd = findHeaderEnd() else {
                if buffer.count - start > limits.maxHeaderBytes {
                    return try fail(.headerTooLarge(limit: limits.maxHeaderBytes))
                }
                return nil
            }
            if headerEnd - start > limits.maxHeaderBytes {
                return try fail(.headerTooLarge(limit: limits.maxHeaderBytes))
            }
            let bodyLength: Int
            switch contentLength(headerStart: start, headerEnd: headerEnd) {
            case .missing: return try fail(.missingContentLength)
            case .invalid: return try fail(.invalidContentLength)
            case .value(let n): bodyLength = n
            }
            let total = headerEnd - start + bodyLength
            if bodyLength > limits.maxMessageBytes || total > limits.maxMessageBytes {
                return try fail(.messageTooLarge(size: total, limit: limits.maxMessageBytes))
            }
            pendingLength = total
        }
        guard let total = pendingLength, buffer.count - start >= total else { return nil }
        let message = Array(buffer[start..<start + total])
        start += total
        scanFrom = start
        pendingLength = nil
        return .message(message)
    }

    private mutating func fail(_ error: SIPStreamFramingError) throws(SIPStreamFramingError) -> SIPStreamFrame? {
        failure = error
        buffer = []
        start = 0
        scanFrom = 0
        throw error
    }

    /// Moves the unconsumed bytes to the front once the consumed prefix is worth reclaiming.
    private mutating func compact() {
        if start == 0 { return }
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
        } else if start >= 4096 || start * 2 >= buffer.count {
            buffer.removeSubrange(0..<start)
        } else {
            return
        }
        scanFrom -= start
        start = 0
    }

    /// Consumes keep-alive line ends in front of a message.
    private mutating func keepAlive() -> SIPStreamFrame? {
        while start < buffer.count {
            let available = buffer.count - start
            let b0 = buffer[start]
            if b0 == 10 {  // bare LF padding
                start += 1
                continue
            }
            if b0 != 13 { break }
            if available < 2 { return nil }  // a CR alone: wait
            if buffer[start + 1] != 10 { break }  // CR not followed by LF: let the parser judge
            if available >= 4 && buffer[start + 2] == 13 && buffer[start + 3] == 10 {
                start += 4
                scanFrom = start
                return .ping
            }
            if available == 2 {
                if reportsPongs {
                    start += 2
                    scanFrom = start
                    return .pong
                }
                return nil  // may be the first half of a ping
            }
            if available == 3 && buffer[start + 2] == 13 { return nil }  // CRLF CR: wait
            start += 2  // a lone CRLF before a message
            if reportsPongs {
                scanFrom = start
                return .pong
            }
        }
        if scanFrom < start { scanFrom = start }
        return nil
    }

    /// The index just past the empty line ending the header block, nil if not yet there.
    /// A line ends in LF, optionally preceded by CR.
    private mutating func findHeaderEnd() -> Int? {
        let count = buffer.count
        var i = max(scanFrom, start)
        let found: Int? = buffer.withUnsafeBufferPointer { b in
            while i < count {
                if b[i] != 10 {
                    i += 1
                    continue
                }
                if i + 1 >= count { return nil }
                if b[i + 1] == 10 { return i + 2 }
                if b[i + 1] == 13 {
                    if i + 2 >= count { return nil }
                    if b[i + 2] == 10 { return i + 3 }
                }
                i += 1
            }
            return nil
        }
        scanFrom = i
        return found
    }

    private enum ContentLength { case missing, invalid, value(Int) }

    /// Finds Content-Length (or `l`) in the header block, folded continuation lines included.
    private func contentLength(headerStart: Int, headerEnd: Int) -> ContentLength {
        buffer.withUnsafeBufferPointer { b -> ContentLength in
            var result: Int? = nil
            var lineStart = headerStart
            // Skip the start line.
            while lineStart < headerEnd && b[lineStart] != 10 { lineStart += 1 }
            lineStart += 1
            while lineStart < headerEnd {
                var lineEnd = lineStart
                while lineEnd < headerEnd && b[lineEnd] != 10 { lineEnd += 1 }
                // The header field runs on over continuation lines (starting with SP or HT).
                var fieldEnd = lineEnd
                while fieldEnd + 1 < headerEnd && (b[fieldEnd + 1] == 32 || b[fieldEnd + 1] == 9) {
                    fieldEnd += 1
                    while fieldEnd < headerEnd && b[fieldEnd] != 10 { fieldEnd += 1 }
                }
                if let colon = SIPStreamFramer.contentLengthColon(b, lineStart, lineEnd) {
                    guard let value = SIPStreamFramer.decimal(b, colon + 1, fieldEnd) else { return .invalid }
                    if let previous = result, previous != value { return .invalid }
                    result = value
                }
                lineStart = fieldEnd + 1
            }
            guard let result else { return .missing }
            return .value(result)
        }
    }

    /// The index of the colon when the line names Content-Length or `l` (case-insensitive,
    /// whitespace allowed before the colon).
    private static func contentLengthColon(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Int? {
        var colon = from
        while colon < to && b[colon] != 58 { colon += 1 }
        if colon >= to { return nil }
        var nameEnd = colon
        while nameEnd > from && (b[nameEnd - 1] == 32 || b[nameEnd - 1] == 9) { nameEnd -= 1 }
        let length = nameEnd - from
        if length == 1 { return b[from] | 0x20 == 108 ? colon : nil }  // "l"
        let expected = contentLengthName
        if length != expected.count { return nil }
        // OR-ing 0x20 lowers letters and leaves "-" as it is, so the folding is exact here.
        for k in 0..<length where b[from + k] | 0x20 != expected[k] { return nil }
        return colon
    }

    /// "content-length" in lower case.
    private static let contentLengthName: [UInt8] = Array("content-length".utf8)

    /// A decimal number surrounded by optional whitespace and line ends; nil if anything else.
    private static func decimal(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Int? {
        var i = from
        while i < to && (b[i] == 32 || b[i] == 9 || b[i] == 13 || b[i] == 10) { i += 1 }
        var value = 0
        var digits = 0
        while i < to && b[i] >= 48 && b[i] <= 57 {
            if value > 100_000_000 { return nil }
            value = value * 10 + Int(b[i] - 48)
            digits += 1
            i += 1
        }
        while i < to && (b[i] == 32 || b[i] == 9 || b[i] == 13 || b[i] == 10) { i += 1 }
        return digits > 0 && i == to ? value : nil
    }
}
