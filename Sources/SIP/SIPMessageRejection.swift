// Answering requests that fail to parse (RFC 3261 §8.2, §16.3: a 400/416/505 response still
// needs the request's Via, From, To, Call-ID and CSeq).

extension SIPMessage {
    /// The response a UA sends to `bytes` that failed `parse` with `error`: `error.status`
    /// (400, 416, 505 ...) with the standard reason phrase, built from whatever valid Via,
    /// From, To, Call-ID and CSeq headers the bytes still carry (the first valid value of
    /// each; every Via that parses). nil when no response can be formed: the error has no
    /// status, the bytes are a response or an ACK (never answered, §17.2.1), or one of those
    /// headers is missing or itself broken.
    public static func rejection(of bytes: [UInt8], error: SIPError, toTag: String? = nil) -> SIPMessage? {
        bytes.withUnsafeBytes { rejection(of: $0, error: error, toTag: toTag) }
    }

    public static func rejection(
        of bytes: UnsafeRawBufferPointer, error: SIPError, toTag: String? = nil
    ) -> SIPMessage? {
        guard let status = error.status, let request = SIPRejectionScanner.request(in: bytes, status: status) else {
            return nil
        }
        return response(to: request, status: status, toTag: toTag)
    }
}

/// A tolerant scan of a broken request for the headers a response needs.
enum SIPRejectionScanner {
    static func request(in p: UnsafeRawBufferPointer, status: Int) -> SIPMessage? {
        let n = p.count
        var i = 0
        while i < n && (p[i] == 0x0D || p[i] == 0x0A) { i += 1 }
        // Method token and a space; responses and ACKs are never answered.
        let methodStart = i
        while i < n && SIPBytes.isTokenByte(p[i]) { i += 1 }
        guard i > methodStart, i < n, p[i] == 0x20 else { return nil }
        let method = SIPMethod(validBytes: SIPBytes.slice(p, methodStart, i))
        if method == .ack { return nil }
        while i < n && p[i] != 0x0A { i += 1 }
        i += 1

        var vias: [SIPVia] = []
        var from: SIPNameAddress?
        var to: SIPNameAddress?
        var callID: String?
        var cseq: SIPCSeq?
        var fields: [SIPHeaderField] = []
        var lines = 0
        while i < n && lines < 1000 {
            lines += 1
            // One logical line: this physical line plus continuation lines.
            var value: [UInt8] = []
            var e = i
            while e < n && p[e] != 0x0A { e += 1 }
            var lineEnd = e > i && p[e - 1] == 0x0D ? e - 1 : e
            if lineEnd == i { break }  // the empty line ends the headers
            let line = SIPBytes.slice(p, i, lineEnd)
            i = e + 1
            while i < n && SIPBytes.isWS(p[i]) {
                var e2 = i
                while e2 < n && p[e2] != 0x0A { e2 += 1 }
                lineEnd = e2 > i && p[e2 - 1] == 0x0D ? e2 - 1 : e2
                value.append(0x20)
                value.append(contentsOf: SIPBytes.trimmed(SIPBytes.slice(p, i, lineEnd)))
                i = e2 + 1
            }
            var colon = 0
            while colon < line.count && line[colon] != 0x3A { colon += 1 }
            guard colon < line.count else { continue }
            let name = SIPBytes.trimmed(SIPBytes.slice(line, 0, colon))
            var full = [UInt8](SIPBytes.trimmed(SIPBytes.slice(line, colon + 1, line.count)))
            full.append(contentsOf: value)
            // Only clean text is copied into the response.
            guard !full.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }),
                full.withUnsafeBytes({ SIPBytes.isValidUTF8($0) })
            else { continue }
            let text = String(decoding: full, as: UTF8.self)
            let id = SIPHeaderName.lookup(name)
            switch id {
            case .via:
                // A 505 still goes back along the Via of the other SIP version.
                if let v = try? SIPMessageParser.parseVias(text, anyVersion: status == 505) {
                    vias.append(contentsOf: v)
                    fields.append(SIPHeaderField(id: .via, name: "Via", value: text))
                }
            case .from where from == nil:
                if let a = try? SIPNameAddress(parsing: text) {
                    from = a
                    fields.append(SIPHeaderField(id: .from, name: "From", value: text))
                }
            case .to where to == nil:
                if let a = try? SIPNameAddress(parsing: text) {
                    to = a
                    fields.append(SIPHeaderField(id: .to, name: "To", value: text))
                }
            case .callID where callID == nil:
                if SIPMessageParser.isCallID(text) {
                    callID = text
                    fields.append(SIPHeaderField(id: .callID, name: "Call-ID", value: text))
                }
            case .cseq where cseq == nil:
                if let c = try? SIPCSeq(parsing: text) {
                    cseq = c
                    fields.append(SIPHeaderField(id: .cseq, name: "CSeq", value: text))
                }
            default:
                break
            }
        }
        guard !vias.isEmpty, let from, let to, let callID, let cseq else { return nil }
        return SIPMessage(
            startLine: .request(method: method, uri: SIPURI(host: .name("invalid"))), fields: fields, body: [],
            via: vias, from: from, to: to, callID: callID, cseq: cseq)
    }
}
