// Message framing on stream transports (RFC 3261 §18.3, §7.5): the length of the first
// message in a TCP receive buffer, found from the empty line and Content-Length.

extension SIPMessage {
    /// On a stream transport: the number of bytes the first message in `bytes` occupies
    /// (CRLF keep-alives before it included, RFC 5626 §3.5.1), or nil while the headers or body
    /// are still incomplete. A missing Content-Length counts as 0 (RFC 3261 §18.3 requires it
    /// on streams; without it nothing else can frame the message). Throws when the headers
    /// exceed `maxHeaderBytes` without their empty line, when Content-Length is malformed or
    /// present twice, or when the message would exceed `maxMessageBytes`: the connection
    /// cannot be resynchronized after that and should be closed.
    public static func streamFrameLength(
        in bytes: UnsafeRawBufferPointer, maxHeaderBytes: Int = 65536, maxMessageBytes: Int = 1 << 20
    ) throws(SIPError) -> Int? {
        let n = bytes.count
        var start = 0
        while start < n && (bytes[start] == 0x0D || bytes[start] == 0x0A) { start += 1 }
        var i = start
        var lineStart = start
        var contentLength: Int? = nil
        while i < n {
            if bytes[i] != 0x0A {
                i += 1
                if i - start > maxHeaderBytes { throw SIPError("SIP headers exceed \(maxHeaderBytes) bytes") }
                continue
            }
            var lineEnd = i
            if lineEnd > lineStart && bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            if lineEnd == lineStart {
                // The empty line: headers end here.
                let bodyStart = i + 1
                let total = bodyStart + (contentLength ?? 0)
                if total - start > maxMessageBytes { throw SIPError("SIP message exceeds \(maxMessageBytes) bytes") }
                return total <= n ? total : nil
            }
            if lineStart > start {  // a header line (not the start line)
                let line = SIPBytes.slice(bytes, lineStart, lineEnd)
                var colon = 0
                while colon < line.count && line[colon] != 0x3A { colon += 1 }
                if colon < line.count && !SIPBytes.isWS(line[0]) {
                    let name = SIPBytes.trimmed(SIPBytes.slice(line, 0, colon))
                    if SIPHeaderName.lookup(name) == .contentLength {
                        let value = SIPBytes.trimmed(SIPBytes.slice(line, colon + 1, line.count))
                        guard let length = SIPBytes.number(value, limit: maxMessageBytes) else {
                            throw SIPError("invalid Content-Length '\(SIPBytes.string(value))' on a stream")
                        }
                        if contentLength != nil { throw SIPError("more than one Content-Length header") }
                        contentLength = length
                    }
                }
            }
            i += 1
            lineStart = i
        }
        return nil
    }

    public static func streamFrameLength(
        in bytes: [UInt8], maxHeaderBytes: Int = 65536, maxMessageBytes: Int = 1 << 20
    ) throws(SIPError) -> Int? {
        let result: Result<Int?, SIPError> = bytes.withUnsafeBytes { p in
            do throws(SIPError) {
                return .success(
                    try streamFrameLength(in: p, maxHeaderBytes: maxHeaderBytes, maxMessageBytes: maxMessageBytes))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let length): return length
        case .failure(let error): throw error
        }
    }
}
