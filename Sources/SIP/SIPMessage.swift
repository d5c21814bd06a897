// The SIP message model (RFC 3261 §7): start line, ordered header fields with typed access
// to the core headers, body; request and response construction (§8.1.1, §8.2.6).

/// A SIP request or response (RFC 3261 §7). Header fields are kept in order with canonical
/// names and their value text; the core headers (Via, From, To, Call-ID, CSeq) are also held
/// typed. Every way to build or change a message validates, so a message always serializes
/// to something that parses back to an equal message. Content-Length is not stored: it is
/// always written from `body`.
public struct SIPMessage: Hashable, Sendable, CustomStringConvertible {
    /// Request-Line or Status-Line (RFC 3261 §7.1, §7.2).
    public enum StartLine: Hashable, Sendable {
        case request(method: SIPMethod, uri: SIPURI)
        case response(status: Int, reason: String)
    }

    /// The start line. A response status outside 100...699 is written clamped and line breaks
    /// in a reason phrase as spaces.
    public var startLine: StartLine
    /// Every header field in order (Content-Length excluded, see `body`).
    public private(set) var headerFields: [SIPHeaderField]
    public var body: [UInt8]

    var viaValues: [SIPVia]
    var fromValue: SIPNameAddress
    var toValue: SIPNameAddress
    var callIDValue: String
    var cseqValue: SIPCSeq

    init(
        startLine: StartLine, fields: [SIPHeaderField], body: [UInt8], via: [SIPVia],
        from: SIPNameAddress, to: SIPNameAddress, callID: String, cseq: SIPCSeq
    ) {
        self.startLine = startLine
        self.headerFields = fields
        self.body = body
        self.viaValues = via
        self.fromValue = from
        self.toValue = to
        self.callIDValue = callID
        self.cseqValue = cseq
    }

    // MARK: start line

    public var isRequest: Bool {
        if case .request = startLine { return true }
        return false
    }

    /// The request method, nil for responses.
    public var method: SIPMethod? {
        if case .request(let m, _) = startLine { return m }
        return nil
    }

    /// The Request-URI, nil for responses.
    public var requestURI: SIPURI? {
        if case .request(_, let uri) = startLine { return uri }
        return nil
    }

    /// The response status code, nil for requests.
    public var status: Int? {
        if case .response(let s, _) = startLine { return s }
        return nil
    }

    /// The reason phrase, nil for requests.
    public var reason: String? {
        if case .response(_, let r) = startLine { return r }
        return nil
    }

    // MARK: core headers

    /// All Via values, top first (every Via header line, comma lists split).
    public var via: [SIPVia] {
        get { viaValues }
        set {
            viaValues = newValue
            replaceFields(.via, with: newValue.map { $0.description }, atTop: true)
        }
    }

    public var from: SIPNameAddress {
        get { fromValue }
        set {
            fromValue = newValue
            replaceFields(.from, with: [newValue.description])
        }
    }

    public var to: SIPNameAddress {
        get { toValue }
        set {
            toValue = newValue
            replaceFields(.to, with: [newValue.description])
        }
    }

    /// The Call-ID. Setting a value that is not `word ["@" word]` (RFC 3261 §25.1) is ignored;
    /// use `setHeader("Call-ID", _:)` for a throwing variant.
    public var callID: String {
        get { callIDValue }
        set {
            guard SIPMessageParser.isCallID(newValue) else { return }
            callIDValue = newValue
            replaceFields(.callID, with: [newValue])
        }
    }

    public var cseq: SIPCSeq {
        get { cseqValue }
        set {
            cseqValue = newValue
            replaceFields(.cseq, with: [newValue.description])
        }
    }

    /// Max-Forwards (0...255; set values are clamped), nil absent.
    public var maxForwards: Int? {
        get { header(.maxForwards).flatMap { SIPBytes.number($0, limit: 255) } }
        set { replaceFields(.maxForwards, with: newValue.map { [String(Swift.max(0, Swift.min(255, $0)))] } ?? []) }
    }

    /// Every Contact value in order (wildcard included).
    public var contacts: [SIPContact] {
        get {
            var out: [SIPContact] = []
            for v in headers(.contact) {
                if let c = try? SIPContact(parsing: v) { out.append(c) }
            }
            return out
        }
        set { replaceFields(.contact, with: newValue.map { $0.description }) }
    }

    /// Every Route value in order.
    public var routes: [SIPNameAddress] {
        get { nameAddresses(.route) }
        set { replaceFields(.route, with: newValue.map { $0.description }) }
    }

    /// Every Record-Route value in order.
    public var recordRoutes: [SIPNameAddress] {
        get { nameAddresses(.recordRoute) }
        set { replaceFields(.recordRoute, with: newValue.map { $0.description }) }
    }

    /// The Content-Type media type with parameters, nil absent. Setting an invalid media type
    /// is ignored (use `setHeader` for a throwing variant).
    public var contentType: String? {
        get { header(.contentType) }
        set {
            guard let newValue else {
                replaceFields(.contentType, with: [])
                return
            }
            guard (try? SIPMessageParser.validate(.contentType, newValue)) != nil else { return }
            replaceFields(.contentType, with: [newValue])
        }
    }

    /// The Expires header in seconds, nil absent.
    public var expires: Int? {
        header(.expires).flatMap { SIPBytes.saturatingNumber($0, limit: SIPBytes.deltaSecondsLimit) }
    }

    // MARK: generic header access

    /// The first value of a header (full or compact name, any case). For list headers that is
    /// the first comma-separated element. Content-Length is answered from the body.
    public func header(_ name: String) -> String? {
        let id = SIPHeaderName.lookup(name)
        if id == .other {
            for f in headerFields where f.id == .other && SIPBytes.equalsIgnoringCase(f.name, name) {
                return f.value
            }
            return nil
        }
        return header(id)
    }

    /// Every value of a header in order: one per header line, list headers (Via, Contact,
    /// Route, Allow, Supported, ...) split at top-level commas.
    public func headers(_ name: String) -> [String] {
        let id = SIPHeaderName.lookup(name)
        if id == .other {
            var out: [String] = []
            for f in headerFields where f.id == .other && SIPBytes.equalsIgnoringCase(f.name, name) {
                out.append(f.value)
            }
            return out
        }
        return headers(id)
    }

    func header(_ id: SIPHeaderName) -> String? {
        if id == .contentLength { return String(body.count) }
        for f in headerFields where f.id == id {
            if id.isList { return SIPMessage.splitList(f.value).first }
            return f.value
        }
        return nil
    }

    func headers(_ id: SIPHeaderName) -> [String] {
        if id == .contentLength { return [String(body.count)] }
        var out: [String] = []
        for f in headerFields where f.id == id {
            if id.isList {
                out.append(contentsOf: SIPMessage.splitList(f.value))
            } else {
                out.append(f.value)
            }
        }
        return out
    }

    /// Splits a list value at top-level commas, trimming each element; empty elements dropped.
    static func splitList(_ value: String) -> [String] {
        SIPBytes.withBytesNoThrow(value) { p in
            if !SIPBytes.containsByte(p, 0x2C) { return [value] }
            guard let parts = try? SIPBytes.splitCommas(p) else { return [value] }
            var out: [String] = []
            for r in parts {
                let t = SIPBytes.trimmed(SIPBytes.slice(p, r.lowerBound, r.upperBound))
                if !t.isEmpty { out.append(SIPBytes.string(t)) }
            }
            return out
        }
    }

    func nameAddresses(_ id: SIPHeaderName) -> [SIPNameAddress] {
        var out: [SIPNameAddress] = []
        for v in headers(id) {
            if let a = try? SIPNameAddress(parsing: v) { out.append(a) }
        }
        return out
    }

    /// Appends a header line (a Via too: it becomes the last Via) after validating the name (a
    /// token) and the value (no line breaks or control characters; typed headers by their
    /// grammar). A second value of a single-value header is an error; Content-Length is always
    /// computed from the body.
    public mutating func addHeader(_ name: String, _ value: String) throws(SIPError) {
        let (id, canonical, text) = try SIPMessageParser.checkField(name, value)
        if id.isSingle && headerFields.contains(where: { $0.id == id }) {
            throw SIPError("\(canonical) allows only one value")
        }
        try adopt(id, text, adding: true)
        headerFields.append(SIPHeaderField(id: id, name: canonical, value: text))
    }

    /// Replaces every line of a header with one line holding `value` (validated as in
    /// `addHeader`), at the place of the first replaced line.
    public mutating func setHeader(_ name: String, _ value: String) throws(SIPError) {
        let (id, canonical, text) = try SIPMessageParser.checkField(name, value)
        try adopt(id, text)
        if id == .other {
            let index = headerFields.firstIndex { $0.id == .other && SIPBytes.equalsIgnoringCase($0.name, name) }
            headerFields.removeAll { $0.id == .other && SIPBytes.equalsIgnoringCase($0.name, name) }
            headerFields.insert(
                SIPHeaderField(id: id, name: canonical, value: text),
                at: Swift.min(index ?? headerFields.count, headerFields.count))
        } else {
            replaceFields(id, with: [text], atTop: id == .via)
        }
    }

    /// Removes every line of a header. From, To, Call-ID and CSeq are required (RFC 3261
    /// §8.1.1) and are not removed; Content-Length follows the body.
    public mutating func removeHeader(_ name: String) {
        let id = SIPHeaderName.lookup(name)
        switch id {
        case .from, .to, .callID, .cseq, .contentLength: return
        case .via: via = []
        case .other: headerFields.removeAll { $0.id == .other && SIPBytes.equalsIgnoringCase($0.name, name) }
        default: headerFields.removeAll { $0.id == id }
        }
    }

    /// Updates the typed core values for a validated new value of header `id`.
    private mutating func adopt(_ id: SIPHeaderName, _ text: String, adding: Bool = false) throws(SIPError) {
        switch id {
        case .via:
            let values = try SIPMessageParser.parseVias(text)
            viaValues = adding ? viaValues + values : values
        case .from: fromValue = try SIPNameAddress(parsing: text)
        case .to: toValue = try SIPNameAddress(parsing: text)
        case .callID: callIDValue = text
        case .cseq: cseqValue = try SIPCSeq(parsing: text)
        case .contentLength: throw SIPError("Content-Length is computed from the body")
        default: break
        }
    }

    /// Replaces all lines of header `id` by `values`, one line each, where the first old line
    /// was (or at the top for Via, else at the end).
    mutating func replaceFields(_ id: SIPHeaderName, with values: [String], atTop: Bool = false) {
        var index = -1
        var kept: [SIPHeaderField] = []
        kept.reserveCapacity(headerFields.count + values.count)
        for f in headerFields {
            if f.id == id {
                if index < 0 { index = kept.count }
                continue
            }
            kept.append(f)
        }
        if index < 0 { index = atTop ? 0 : kept.count }
        let name = id.canonical
        kept.insert(contentsOf: values.map { SIPHeaderField(id: id, name: name, value: $0) }, at: index)
        headerFields = kept
    }

    public var description: String { String(decoding: serialized(), as: UTF8.self) }
}

// MARK: - construction

extension SIPMessage {
    /// A new request (RFC 3261 §8.1.1) with Via, Max-Forwards, To, From, Call-ID and CSeq.
    public static func request(
        method: SIPMethod, uri: SIPURI, from: SIPNameAddress, to: SIPNameAddress, callID: String,
        cseq: UInt32, via: SIPVia, maxForwards: Int = 70
    ) -> SIPMessage {
        let cs = SIPCSeq(number: cseq, method: method)
        let id = SIPMessageParser.isCallID(callID) ? callID : "invalid-call-id"
        let fields = [
            SIPHeaderField(id: .via, name: "Via", value: via.description),
            SIPHeaderField(
                id: .maxForwards, name: "Max-Forwards", value: String(Swift.max(0, Swift.min(255, maxForwards)))),
            SIPHeaderField(id: .to, name: "To", value: to.description),
            SIPHeaderField(id: .from, name: "From", value: from.description),
            SIPHeaderField(id: .callID, name: "Call-ID", value: id),
            SIPHeaderField(id: .cseq, name: "CSeq", value: cs.description),
        ]
        return SIPMessage(
            startLine: .request(method: method, uri: uri), fields: fields, body: [], via: [via],
            from: from, to: to, callID: id, cseq: cs)
    }

    /// RFC 3261 §8.2.6: a response to `request` copying Via, From, To (adding `toTag` when the
    /// To has none and status > 100), Call-ID, CSeq (and Timestamp for 100, §8.2.6.1);
    /// Content-Length 0. A response that creates a dialog (`createsDialog(request:status:toTag:)`)
    /// also copies every Record-Route header line of the request, values and order untouched
    /// (§12.1.1), so the caller's route set keeps the proxies that asked to stay in the path.
    public static func response(
        to request: SIPMessage, status: Int, reason: String? = nil, toTag: String? = nil
    ) -> SIPMessage {
        let code = Swift.max(100, Swift.min(699, status))
        var fields: [SIPHeaderField] = []
        fields.reserveCapacity(8)
        var to = request.toValue
        let copiesRecordRoute = createsDialog(request: request, status: code, toTag: toTag)
        for f in request.headerFields {
            switch f.id {
            case .via, .from, .callID, .cseq:
                fields.append(f)
            case .to:
                if code > 100, to.tag == nil, let toTag, SIPMessageParser.isToken(toTag) {
                    to.tag = toTag
                    fields.append(SIPHeaderField(id: .to, name: "To", value: f.value + ";tag=" + toTag))
                } else {
                    fields.append(f)
                }
            case .timestamp where code == 100:
                fields.append(f)
            case .recordRoute where copiesRecordRoute:
                fields.append(f)
            default:
                break
            }
        }
        return SIPMessage(
            startLine: .response(status: code, reason: reason ?? reasonPhrase(code)), fields: fields,
            body: [], via: request.viaValues, from: request.fromValue, to: to,
            callID: request.callIDValue, cseq: request.cseqValue)
    }

    /// Whether a response with `status` (and `toTag` for the To when the request has none) to
    /// `request` creates a dialog (RFC 3261 §12.1): a 2xx, or a 101–199 with a To tag, to an
    /// INVITE outside a dialog (no To tag). Responses inside a dialog (re-INVITE, INFO, BYE)
    /// and to other methods do not; Record-Route is copied into exactly these (§12.1.1).
    public static func createsDialog(request: SIPMessage, status: Int, toTag: String?) -> Bool {
        guard request.method == .invite, request.toValue.tag == nil, status > 100, status < 300 else {
            return false
        }
        guard let toTag else { return false }
        return SIPMessageParser.isToken(toTag)
    }

    /// The standard reason phrase of a status code (RFC 3261 §21 and extensions).
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: return "Trying"
        case 180: return "Ringing"
        case 181: return "Call Is Being Forwarded"
        case 182: return "Queued"
        case 183: return "Session Progress"
        case 199: return "Early Dialog Terminated"
        case 200: return "OK"
        case 202: return "Accepted"
        case 204: return "No Notification"
        case 300: return "Multiple Choices"
        case 301: return "Moved Permanently"
        case 302: return "Moved Temporarily"
        case 305: return "Use Proxy"
        case 380: return "Alternative Service"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 402: return "Payment Required"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 406: return "Not Acceptable"
        case 407: return "Proxy Authentication Required"
        case 408: return "Request Timeout"
        case 410: return "Gone"
        case 412: return "Conditional Request Failed"
        case 413: return "Request Entity Too Large"
        case 414: return "Request-URI Too Long"
        case 415: return "Unsupported Media Type"
        case 416: return "Unsupported URI Scheme"
        case 420: return "Bad Extension"
        case 421: return "Extension Required"
        case 422: return "Session Interval Too Small"
        case 423: return "Interval Too Brief"
        case 428: return "Use Identity Header"
        case 429: return "Provide Referrer Identity"
        case 433: return "Anonymity Disallowed"
        case 436: return "Bad Identity-Info"
        case 437: return "Unsupported Certificate"
        case 438: return "Invalid Identity Header"
        case 439: return "First Hop Lacks Outbound Support"
        case 440: return "Max-Breadth Exceeded"
        case 469: return "Bad Info Package"
        case 470: return "Consent Needed"
        case 480: return "Temporarily Unavailable"
        case 481: return "Call/Transaction Does Not Exist"
        case 482: return "Loop Detected"
        case 483: return "Too Many Hops"
        case 484: return "Address Incomplete"
        case 485: return "Ambiguous"
        case 486: return "Busy Here"
        case 487: return "Request Terminated"
        case 488: return "Not Acceptable Here"
        case 489: return "Bad Event"
        case 491: return "Request Pending"
        case 493: return "Undecipherable"
        case 494: return "Security Agreement Required"
        case 500: return "Server Internal Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Server Time-out"
        case 505: return "Version Not Supported"
        case 513: return "Message Too Large"
        case 555: return "Push Notification Service Not Supported"
        case 580: return "Precondition Failure"
        case 600: return "Busy Everywhere"
        case 603: return "Decline"
        case 604: return "Does Not Exist Anywhere"
        case 606: return "Not Acceptable"
        case 607: return "Unwanted"
        case 608: return "Rejected"
        default:
            switch status / 100 {
            case 1: return "Trying"
            case 2: return "OK"
            case 3: return "Redirection"
            case 4: return "Client Error"
            case 5: return "Server Error"
            default: return "Global Failure"
            }
        }
    }
}
