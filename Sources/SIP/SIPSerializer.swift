// Canonical serialization of SIP messages (RFC 3261 §7): full header names in canonical case,
// ": " separators, CRLF line ends, no folding, Content-Length from the body.

extension SIPMessage {
    /// The canonical wire form; Content-Length is always present and equals `body.count`.
    public func serialized() -> [UInt8] {
        var out = [UInt8]()
        serialize(into: &out)
        return out
    }

    /// Appends the canonical wire form to `out` (reserving the needed capacity first).
    public func serialize(into out: inout [UInt8]) {
        var size = 64 + body.count
        for f in headerFields { size += f.name.utf8.count + f.value.utf8.count + 4 }
        if case .request(_, let uri) = startLine { size += uri.estimatedLength }
        out.reserveCapacity(out.count + size)
        switch startLine {
        case .request(let method, let uri):
            SIPBytes.append(method.name, to: &out)
            out.append(0x20)
            uri.append(to: &out)
            out.append(contentsOf: " SIP/2.0\r\n".utf8)
        case .response(let status, let reason):
            out.append(contentsOf: "SIP/2.0 ".utf8)
            SIPBytes.appendDecimal(Swift.max(100, Swift.min(699, status)), to: &out)
            out.append(0x20)
            for b in reason.utf8 { out.append(b == 0x0D || b == 0x0A ? 0x20 : b) }
            out.append(0x0D)
            out.append(0x0A)
        }
        for f in headerFields {
            SIPBytes.append(f.name, to: &out)
            out.append(0x3A)
            out.append(0x20)
            SIPBytes.append(f.value, to: &out)
            out.append(0x0D)
            out.append(0x0A)
        }
        out.append(contentsOf: "Content-Length: ".utf8)
        SIPBytes.appendDecimal(body.count, to: &out)
        out.append(contentsOf: "\r\n\r\n".utf8)
        out.append(contentsOf: body)
    }
}

extension SIPURI {
    /// An upper estimate of the serialized length without escapes (for buffer reservation).
    var estimatedLength: Int {
        var n = scheme.utf8.count + 8 + (user?.utf8.count ?? 0) + (password?.utf8.count ?? 0)
        n += host.text.utf8.count + (opaque?.utf8.count ?? 0)
        for p in parameters { n += p.name.utf8.count + (p.value?.utf8.count ?? 0) + 2 }
        for h in headers { n += h.name.utf8.count + (h.value?.utf8.count ?? 0) + 2 }
        return n
    }
}
