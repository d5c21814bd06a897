/// An incremental HTTP/1.1 response parser for one GET (RFC 9112 §4 status line, §5 fields,
/// §6.3 message body length, §7.1 chunked transfer coding). Bytes arrive in any split;
/// hostile input ends in `.failed` with a reason, never in a crash or unbounded memory.
struct HTTPResponseParser {
    enum Progress: Equatable {
        /// More bytes are needed.
        case incomplete
        /// The response is complete (the rest of the stream is ignored).
        case complete
        /// The response is malformed or too large.
        case failed(String)
    }

    /// Limits that keep a hostile server from using up the phone's memory.
    struct Limits {
        var headerBytes = 16 * 1024
        var headerCount = 100
        var bodyBytes = 64 * 1024
    }

    private enum Framing {
        case contentLength(Int)
        case chunked
        case untilClose
        case none
    }

    private enum State {
        case head
        case body(Framing)
        /// Expecting a chunk-size line.
        case chunkSize
        /// Inside chunk data: bytes left.
        case chunkData(Int)
        /// The CRLF after chunk data.
        case chunkDataEnd
        /// Trailer fields after the last chunk, up to an empty line.
        case trailers
        case done
        case failed(String)
    }

    let limits: Limits
    private var state = State.head
    private var pending: [UInt8] = []
    private(set) var status = 0
    private(set) var reason = ""
    private(set) var headers: [(name: String, value: String)] = []
    private(set) var body: [UInt8] = []
    private var trailerBytes = 0
    /// Bytes received in total (0 means the server sent nothing).
    private(set) var receivedBytes = 0

    init(limits: Limits = Limits()) {
        self.limits = limits
    }

    var response: HTTPResponse {
        HTTPResponse(status: status, reason: reason, headers: headers, body: body)
    }

    /// Feeds the next bytes of the stream.
    mutating func append(_ bytes: UnsafeRawBufferPointer) -> Progress {
        receivedBytes += bytes.count
        switch state {
        case .done: return .complete
        case .failed(let why): return .failed(why)
        default: break
        }
        pending.append(contentsOf: bytes)
        return run()
    }

    mutating func append(_ bytes: [UInt8]) -> Progress {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The stream ended (the server closed): completes a read-to-close body, fails anything
    /// cut short.
    mutating func finish() -> Progress {
        switch state {
        case .done:
            return .complete
        case .failed(let why):
            return .failed(why)
        case .head:
            if receivedBytes == 0 { return fail("connection closed without a response") }
            return fail("connection closed inside the response header")
        case .body(.untilClose):
            state = .done
            return .complete
        case .body(.contentLength(let left)):
            return fail(
                "connection closed " + String(left) + " bytes before the end of the body ("
                    + String(body.count) + " received)")
        case .body(_), .chunkSize, .chunkData(_), .chunkDataEnd, .trailers:
            return fail("connection closed inside the chunked body")
        }
    }

    private mutating func fail(_ why: String) -> Progress {
        let reason = "malformed response: " + why
        state = .failed(reason)
        pending = []
        return .failed(reason)
    }

    private mutating func failTooLarge() -> Progress {
        let reason = "response body larger than " + String(limits.bodyBytes) + " bytes"
        state = .failed(reason)
        pending = []
        return .failed(reason)
    }

    private mutating func run() -> Progress {
        var offset = 0
        defer {
            if offset > 0 { pending.removeFirst(min(offset, pending.count)) }
        }
        while true {
            switch state {
            case .done:
                pending = []
                offset = 0
                return .complete
            case .failed(let why):
                offset = 0
                return .failed(why)
            case .head:
                guard let end = HTTPResponseParser.headEnd(pending, from: offset) else {
                    if pending.count - offset > limits.headerBytes {
                        offset = 0
                        return fail("header section longer than " + String(limits.headerBytes) + " bytes")
                    }
                    return .incomplete
                }
                if end.headerEnd - offset > limits.headerBytes {
                    offset = 0
                    return fail("header section longer than " + String(limits.headerBytes) + " bytes")
                }
                let result = parseHead(pending[offset..<end.headerEnd])
                offset = end.bodyStart
                if case .failed = result {
                    offset = 0
                    return result
                }
            case .body(.none):
                state = .done
            case .body(.contentLength(let left)):
                let available = pending.count - offset
                let take = min(left, available)
                body.append(contentsOf: pending[offset..<offset + take])
                offset += take
                if left - take == 0 {
                    state = .done
                } else {
                    state = .body(.contentLength(left - take))
                    return .incomplete
                }
            case .body(.untilClose):
                let available = pending.count - offset
                if body.count + available > limits.bodyBytes {
                    offset = 0
                    return failTooLarge()
                }
                body.append(contentsOf: pending[offset...])
                offset = pending.count
                return .incomplete
            case .body(.chunked):
                state = .chunkSize
            case .chunkSize:
                guard let lineEnd = HTTPResponseParser.lineEnd(pending, from: offset) else {
                    if pending.count - offset > 1024 {
                        offset = 0
                        return fail("chunk size line longer than 1024 bytes")
                    }
                    return .incomplete
                }
                // The same limit whether the line came in one read or in pieces.
                if lineEnd.next - 1 - offset > 1024 {
                    offset = 0
                    return fail("chunk size line longer than 1024 bytes")
                }
                let line = pending[offset..<lineEnd.contentEnd]
                offset = lineEnd.next
                // chunk-size [ chunk-ext ]: hex digits, then optional ";ext" (ignored).
                var size = 0
                var digits = 0
                var i = line.startIndex
                while i < line.endIndex, let d = HTTPResponseParser.hexValue(line[i]) {
                    size = size * 16 + d
                    digits += 1
                    i += 1
                    if size > limits.bodyBytes {
                        offset = 0
                        return failTooLarge()
                    }
                }
                while i < line.endIndex && (line[i] == 32 || line[i] == 9) { i += 1 }
                if digits == 0 || (i < line.endIndex && line[i] != 59) {
                    offset = 0
                    return fail("bad chunk size line '" + HTTPBytes.printable(line) + "'")
                }
                if size == 0 {
                    state = .trailers
                } else if body.count + size > limits.bodyBytes {
                    offset = 0
                    return failTooLarge()
                } else {
                    state = .chunkData(size)
                }
            case .chunkData(let left):
                let available = pending.count - offset
                let take = min(left, available)
                body.append(contentsOf: pending[offset..<offset + take])
                offset += take
                if left - take == 0 {
                    state = .chunkDataEnd
                } else {
                    state = .chunkData(left - take)
                    return .incomplete
                }
            case .chunkDataEnd:
                guard pending.count - offset >= 1 else { return .incomplete }
                if pending[offset] == 10 {
                    offset += 1
                } else if pending[offset] == 13 {
                    guard pending.count - offset >= 2 else { return .incomplete }
                    guard pending[offset + 1] == 10 else {
                        offset = 0
                        return fail("chunk data not followed by CRLF")
                    }
                    offset += 2
                } else {
                    offset = 0
                    return fail("chunk data longer than its size")
                }
                state = .chunkSize
            case .trailers:
                guard let lineEnd = HTTPResponseParser.lineEnd(pending, from: offset) else {
                    if trailerBytes + pending.count - offset > limits.headerBytes {
                        offset = 0
                        return fail("trailer section longer than " + String(limits.headerBytes) + " bytes")
                    }
                    return .incomplete
                }
                let empty = lineEnd.contentEnd == offset
                trailerBytes += lineEnd.next - offset
                offset = lineEnd.next
                if trailerBytes > limits.headerBytes {
                    offset = 0
                    return fail("trailer section longer than " + String(limits.headerBytes) + " bytes")
                }
                if empty { state = .done }
            }
        }
    }

    /// Parses the status line and header fields, then picks the body framing (RFC 9112 §6.3).
    private mutating func parseHead(_ head: ArraySlice<UInt8>) -> Progress {
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = head.startIndex
        var i = head.startIndex
        while i < head.endIndex {
            if head[i] == 10 {
                var lineEnd = i
                if lineEnd > lineStart && head[lineEnd - 1] == 13 { lineEnd -= 1 }
                lines.append(head[lineStart..<lineEnd])
                lineStart = i + 1
            }
            i += 1
        }
        if lineStart < head.endIndex {
            var lineEnd = head.endIndex
            if head[lineEnd - 1] == 13 { lineEnd -= 1 }
            lines.append(head[lineStart..<lineEnd])
        }
        guard let statusLine = lines.first else { return fail("empty header section") }
        // HTTP/1.x SP 3DIGIT SP reason
        let prefix: [UInt8] = Array("HTTP/1.".utf8)
        guard statusLine.count >= 12, Array(statusLine.prefix(7)) == prefix,
            statusLine[statusLine.startIndex + 7] >= 48, statusLine[statusLine.startIndex + 7] <= 57,
            statusLine[statusLine.startIndex + 8] == 32,
            let code = HTTPBytes.decimal(
                statusLine[(statusLine.startIndex + 9)..<(statusLine.startIndex + 12)], maximum: 999),
            code >= 100,
            statusLine.count == 12 || statusLine[statusLine.startIndex + 12] == 32
        else {
            return fail("bad status line '" + HTTPBytes.printable(statusLine) + "'")
        }
        var reasonBytes = statusLine.count > 13 ? statusLine[(statusLine.startIndex + 13)...] : []
        if reasonBytes.contains(where: { $0 < 32 && $0 != 9 || $0 == 127 }) {
            return fail("control character in the reason phrase")
        }
        if reasonBytes.count > 256 { reasonBytes = reasonBytes.prefix(256) }
        var fields: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            if line.isEmpty { continue }
            if line.first == 32 || line.first == 9 {
                return fail("obsolete line folding in the header")
            }
            guard let colon = line.firstIndex(of: 58), colon > line.startIndex else {
                return fail("header line without a name: '" + HTTPBytes.printable(line) + "'")
            }
            let name = line[line.startIndex..<colon]
            if !name.allSatisfy(HTTPResponseParser.isTokenByte) {
                return fail("bad header name '" + HTTPBytes.printable(name) + "'")
            }
            var valueStart = colon + 1
            var valueEnd = line.endIndex
            while valueStart < valueEnd && (line[valueStart] == 32 || line[valueStart] == 9) { valueStart += 1 }
            while valueEnd > valueStart && (line[valueEnd - 1] == 32 || line[valueEnd - 1] == 9) { valueEnd -= 1 }
            let value = line[valueStart..<valueEnd]
            if value.contains(where: { $0 < 32 && $0 != 9 || $0 == 127 }) {
                return fail("control character in header '" + HTTPBytes.printable(name) + "'")
            }
            if fields.count == limits.headerCount {
                return fail("more than " + String(limits.headerCount) + " header fields")
            }
            fields.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        // Interim responses (100 Continue, 103 Early Hints) are skipped: the final one follows.
        if code >= 100 && code < 200 {
            if code == 101 { return fail("unexpected 101 Switching Protocols") }
            return .incomplete
        }
        status = code
        reason = String(decoding: reasonBytes, as: UTF8.self)
        headers = fields
        return chooseFraming()
    }

    private mutating func chooseFraming() -> Progress {
        if status == 204 || status == 304 {
            state = .body(.none)
            return .incomplete
        }
        var transferCodings: [UInt8]? = nil
        var contentLength: Int? = nil
        for field in headers {
            if HTTPBytes.isName(field.name, "transfer-encoding") {
                let value = HTTPBytes.lowercased(Array(field.value.utf8)[...])
                if transferCodings == nil { transferCodings = value } else { transferCodings! += [44] + value }
            } else if HTTPBytes.isName(field.name, "content-length") {
                // A list of identical values is allowed (RFC 9110 §8.6); anything else is not.
                for item in Array(field.value.utf8).split(separator: 44, omittingEmptySubsequences: false) {
                    guard let n = HTTPBytes.decimal(HTTPBytes.trimmed(item), maximum: Int(Int32.max)) else {
                        return fail("bad Content-Length '" + HTTPBytes.printable(Array(field.value.utf8)[...]) + "'")
                    }
                    if let previous = contentLength, previous != n {
                        return fail("conflicting Content-Length values")
                    }
                    contentLength = n
                }
            }
        }
        if let codings = transferCodings {
            // Chunked must be the final coding; a response with another final coding is
            // read until the connection closes (RFC 9112 §6.3 item 4).
            let last = codings.split(separator: 44, omittingEmptySubsequences: false).last.map(HTTPBytes.trimmed)
            if let last, Array(last) == Array("chunked".utf8) {
                state = .body(.chunked)
            } else {
                state = .body(.untilClose)
            }
            return .incomplete
        }
        if let n = contentLength {
            if n > limits.bodyBytes { return failTooLarge() }
            state = .body(.contentLength(n))
            return .incomplete
        }
        state = .body(.untilClose)
        return .incomplete
    }

    /// The end of the header section: CRLFCRLF (or a bare LFLF, tolerated).
    private static func headEnd(_ b: [UInt8], from start: Int) -> (headerEnd: Int, bodyStart: Int)? {
        var i = start
        while i < b.count {
            if b[i] == 10 {
                if i + 1 < b.count && b[i + 1] == 10 { return (i + 1, i + 2) }
                if i + 2 < b.count && b[i + 1] == 13 && b[i + 2] == 10 { return (i + 1, i + 3) }
            }
            i += 1
        }
        return nil
    }

    /// The end of one line: the index of its CR or LF and the start of the next line.
    private static func lineEnd(_ b: [UInt8], from start: Int) -> (contentEnd: Int, next: Int)? {
        var i = start
        while i < b.count {
            if b[i] == 10 {
                let contentEnd = i > start && b[i - 1] == 13 ? i - 1 : i
                return (contentEnd, i + 1)
            }
            i += 1
        }
        return nil
    }

    private static func hexValue(_ c: UInt8) -> Int? {
        if c >= 48 && c <= 57 { return Int(c - 48) }
        if c >= 97 && c <= 102 { return Int(c - 87) }
        if c >= 65 && c <= 70 { return Int(c - 55) }
        return nil
    }

    /// tchar (RFC 9110 §5.6.2).
    private static func isTokenByte(_ c: UInt8) -> Bool {
        switch c {
        case 48...57, 65...90, 97...122: return true
        case 33, 35, 36, 37, 38, 39, 42, 43, 45, 46, 94, 95, 96, 124, 126: return true
        default: return false
        }
    }
}
