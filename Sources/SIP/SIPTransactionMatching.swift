// How messages find their transaction (RFC 3261 §17.1.3 for responses, §17.2.3 for requests,
// §9.2 for CANCEL), and the requests a transaction builds itself: the ACK for a non-2xx final
// response (§17.1.1.3) and the CANCEL of an INVITE (§9.1).

/// The keys of the transaction tables and the requests built from other requests. Pure
/// functions over messages (RFC 3261 §17.1.3, §17.2.3, §17.1.1.3, §9.1).
public enum SIPTransactionMatching {
    /// The magic cookie that marks an RFC 3261 branch (§8.1.1.7).
    public static let magicCookie = "z9hG4bK"

    /// The Request-URI of a request, nil for a response.
    public static func requestURI(of message: SIPMessage) -> SIPURI? {
        if case .request(_, let uri) = message.startLine { return uri }
        return nil
    }

    /// Client transaction key of a request we send or a response we receive (§17.1.3): the
    /// top Via branch and the CSeq method. Nil without a Via or a branch.
    public static func clientKey(_ message: SIPMessage) -> String? {
        guard let top = message.via.first, let branch = top.branch else { return nil }
        return clientKey(branch: branch, method: message.cseq.method)
    }

    static func clientKey(branch: String, method: SIPMethod) -> String {
        "c " + branch + " " + method.name
    }

    /// Whether a branch was built by an RFC 3261 element (starts with `z9hG4bK`).
    public static func hasMagicCookie(_ branch: String?) -> Bool {
        guard let branch else { return false }
        return branch.utf8.starts(with: magicCookie.utf8) && branch.utf8.count > magicCookie.utf8.count
    }

    /// Server transaction key of a received request (§17.2.3), computed as if the request's
    /// method were `method` (INVITE for an ACK or for a CANCEL looking for the INVITE it
    /// cancels). With an RFC 3261 branch: branch, sent-by and method. Without one (RFC 2543
    /// fallback): Request-URI, To tag (`toTag`, by default the request's own), From tag,
    /// Call-ID, CSeq number, top Via (transport, sent-by, branch) and method. Nil without a Via.
    public static func serverKey(_ request: SIPMessage, method: SIPMethod, toTag: String?? = nil) -> String? {
        guard let top = request.via.first else { return nil }
        if hasMagicCookie(top.branch), let branch = top.branch {
            return "s " + branch + " " + sentBy(top) + " " + method.name
        }
        guard let uri = requestURI(of: request) else { return nil }
        let to: String? = toTag ?? request.to.tag
        return "r " + uri.description + " " + (to ?? "-") + " " + (request.from.tag ?? "-") + " "
            + request.callID + " " + String(request.cseq.number) + " " + top.transport + " " + sentBy(top)
            + " " + (top.branch ?? "-") + " " + method.name
    }

    /// The sent-by of a Via (`host:port`, host names compared case-insensitively).
    static func sentBy(_ via: SIPVia) -> String {
        var text: String
        switch via.host {
        case .name(let name): text = asciiLowercased(name)
        case .ipv4(let address): text = address
        case .ipv6(let address): text = "[" + asciiLowercased(address) + "]"
        }
        if let port = via.port { text += ":" + String(port) }
        return text
    }

    static func asciiLowercased(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for b in text.utf8 { bytes.append(b >= 65 && b <= 90 ? b + 32 : b) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The ACK a client INVITE transaction sends for a 3xx–6xx `response` (§17.1.1.3): the
    /// request's Request-URI, top Via only (same branch), From, Call-ID and CSeq number; the
    /// response's To (with its tag); CSeq method ACK; the request's Route headers; no body.
    /// Nil when the request has no Via.
    public static func ackRequest(for request: SIPMessage, response: SIPMessage) -> SIPMessage? {
        derivedRequest(from: request, method: .ack, to: response.to)
    }

    /// The CANCEL of an INVITE (§9.1): the same Request-URI, Call-ID, To, CSeq number and From,
    /// the top Via only (same branch, so it matches the INVITE's server transaction), the
    /// Route headers; CSeq method CANCEL; no body.
    /// Nil when the request has no Via.
    public static func cancelRequest(for request: SIPMessage) -> SIPMessage? {
        derivedRequest(from: request, method: .cancel, to: request.to)
    }

    private static func derivedRequest(
        from request: SIPMessage, method: SIPMethod, to: SIPNameAddress
    ) -> SIPMessage? {
        guard let top = request.via.first else { return nil }
        let uri = requestURI(of: request) ?? request.to.uri
        var message = SIPMessage.request(
            method: method, uri: uri, from: request.from, to: to, callID: request.callID,
            cseq: request.cseq.number, via: top, maxForwards: request.maxForwards ?? 70)
        for route in request.headers("Route") {
            do throws(SIPError) {
                try message.addHeader("Route", route)
            } catch {
                // A Route that parsed in the request parses again; nothing to do otherwise.
            }
        }
        return message
    }
}
