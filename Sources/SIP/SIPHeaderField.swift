// Header field names: canonical spelling, compact forms (RFC 3261 §7.3.3, §20; RFC 3265 §7.2;
// RFC 3515 §2.1; RFC 3892, 4028, 3841, 4474) and which take comma-separated lists (§7.3.1).

/// One header field line of a message (RFC 3261 §7.3): the canonical name (full form, canonical case, e.g.
/// `Call-ID`, `WWW-Authenticate`; unknown names as received) and the value with line folding
/// replaced by a single space and surrounding whitespace trimmed.
public struct SIPHeaderField: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public let value: String
    let id: SIPHeaderName

    /// A field with `name` canonicalized (full or compact form, any case). The value is not
    /// validated here: `SIPMessage.addHeader` validates.
    public init(name: String, value: String) {
        let id = SIPHeaderName.lookup(name)
        self.id = id
        self.name = id == .other ? name : id.canonical
        self.value = value
    }

    init(id: SIPHeaderName, name: String, value: String) {
        self.id = id
        self.name = name
        self.value = value
    }

    public var description: String { name + ": " + value }
}

/// The header names the stack knows by their canonical spelling.
enum SIPHeaderName: UInt8, Sendable {
    case other
    case accept, acceptContact, acceptEncoding, acceptLanguage, alertInfo, allow, allowEvents
    case authenticationInfo, authorization, callID, callInfo, contact, contentDisposition
    case contentEncoding, contentLanguage, contentLength, contentType, cseq, date, errorInfo
    case event, expires, from, identity, identityInfo, inReplyTo, maxForwards, mimeVersion
    case minExpires, minSE, organization, pAssertedIdentity, pPreferredIdentity, path, priority
    case privacy, proxyAuthenticate, proxyAuthorization, proxyRequire, rack, reason
    case recordRoute, referTo, referredBy, rejectContact, replaces, replyTo, requestDisposition
    case require, retryAfter, route, rseq, server, serviceRoute, sessionExpires, sipETag
    case sipIfMatch, subject, subscriptionState, supported, timestamp, to, unsupported
    case userAgent, via, warning, wwwAuthenticate

    var canonical: String {
        switch self {
        case .other: return ""
        case .accept: return "Accept"
        case .acceptContact: return "Accept-Contact"
        case .acceptEncoding: return "Accept-Encoding"
        case .acceptLanguage: return "Accept-Language"
        case .alertInfo: return "Alert-Info"
        case .allow: return "Allow"
        case .allowEvents: return "Allow-Events"
        case .authenticationInfo: return "Authentication-Info"
        case .authorization: return "Authorization"
        case .callID: return "Call-ID"
        case .callInfo: return "Call-Info"
        case .contact: return "Contact"
        case .contentDisposition: return "Content-Disposition"
        case .contentEncoding: return "Content-Encoding"
        case .contentLanguage: return "Content-Language"
        case .contentLength: return "Content-Length"
        case .contentType: return "Content-Type"
        case .cseq: return "CSeq"
        case .date: return "Date"
        case .errorInfo: return "Error-Info"
        case .event: return "Event"
        case .expires: return "Expires"
        case .from: return "From"
        case .identity: return "Identity"
        case .identityInfo: return "Identity-Info"
        case .inReplyTo: return "In-Reply-To"
        case .maxForwards: return "Max-Forwards"
        case .mimeVersion: return "MIME-Version"
        case .minExpires: return "Min-Expires"
        case .minSE: return "Min-SE"
        case .organization: return "Organization"
        case .pAssertedIdentity: return "P-Asserted-Identity"
        case .pPreferredIdentity: return "P-Preferred-Identity"
        case .path: return "Path"
        case .priority: return "Priority"
        case .privacy: return "Privacy"
        case .proxyAuthenticate: return "Proxy-Authenticate"
        case .proxyAuthorization: return "Proxy-Authorization"
        case .proxyRequire: return "Proxy-Require"
        case .rack: return "RAck"
        case .reason: return "Reason"
        case .recordRoute: return "Record-Route"
        case .referTo: return "Refer-To"
        case .referredBy: return "Referred-By"
        case .rejectContact: return "Reject-Contact"
        case .replaces: return "Replaces"
        case .replyTo: return "Reply-To"
        case .requestDisposition: return "Request-Disposition"
        case .require: return "Require"
        case .retryAfter: return "Retry-After"
        case .route: return "Route"
        case .rseq: return "RSeq"
        case .server: return "Server"
        case .serviceRoute: return "Service-Route"
        case .sessionExpires: return "Session-Expires"
        case .sipETag: return "SIP-ETag"
        case .sipIfMatch: return "SIP-If-Match"
        case .subject: return "Subject"
        case .subscriptionState: return "Subscription-State"
        case .supported: return "Supported"
        case .timestamp: return "Timestamp"
        case .to: return "To"
        case .unsupported: return "Unsupported"
        case .userAgent: return "User-Agent"
        case .via: return "Via"
        case .warning: return "Warning"
        case .wwwAuthenticate: return "WWW-Authenticate"
        }
    }

    /// The compact form's full header (RFC 3261 §7.3.3 and the extension RFCs).
    static func compact(_ b: UInt8) -> SIPHeaderName {
        switch SIPBytes.lower(b) {
        case 0x69: return .callID  // i
        case 0x6D: return .contact  // m
        case 0x65: return .contentEncoding  // e
        case 0x6C: return .contentLength  // l
        case 0x63: return .contentType  // c
        case 0x66: return .from  // f
        case 0x73: return .subject  // s
        case 0x6B: return .supported  // k
        case 0x74: return .to  // t
        case 0x76: return .via  // v
        case 0x6F: return .event  // o (RFC 3265)
        case 0x75: return .allowEvents  // u (RFC 3265)
        case 0x72: return .referTo  // r (RFC 3515)
        case 0x62: return .referredBy  // b (RFC 3892)
        case 0x78: return .sessionExpires  // x (RFC 4028)
        case 0x61: return .acceptContact  // a (RFC 3841)
        case 0x6A: return .rejectContact  // j (RFC 3841)
        case 0x64: return .requestDisposition  // d (RFC 3841)
        case 0x79: return .identity  // y (RFC 4474)
        case 0x6E: return .identityInfo  // n (RFC 4474)
        default: return .other
        }
    }

    /// The known header named by `p` (full or compact form, any case), or `.other`.
    static func lookup(_ p: UnsafeRawBufferPointer) -> SIPHeaderName {
        switch p.count {
        case 1: return compact(p[0])
        case 2:
            if SIPBytes.equalsLower(p, "to") { return .to }
        case 3:
            if SIPBytes.equalsLower(p, "via") { return .via }
        case 4:
            if SIPBytes.equalsLower(p, "cseq") { return .cseq }
            if SIPBytes.equalsLower(p, "date") { return .date }
            if SIPBytes.equalsLower(p, "from") { return .from }
            if SIPBytes.equalsLower(p, "path") { return .path }
            if SIPBytes.equalsLower(p, "rack") { return .rack }
            if SIPBytes.equalsLower(p, "rseq") { return .rseq }
        case 5:
            if SIPBytes.equalsLower(p, "allow") { return .allow }
            if SIPBytes.equalsLower(p, "event") { return .event }
            if SIPBytes.equalsLower(p, "route") { return .route }
        case 6:
            if SIPBytes.equalsLower(p, "accept") { return .accept }
            if SIPBytes.equalsLower(p, "min-se") { return .minSE }
            if SIPBytes.equalsLower(p, "reason") { return .reason }
            if SIPBytes.equalsLower(p, "server") { return .server }
        case 7:
            if SIPBytes.equalsLower(p, "call-id") { return .callID }
            if SIPBytes.equalsLower(p, "contact") { return .contact }
            if SIPBytes.equalsLower(p, "expires") { return .expires }
            if SIPBytes.equalsLower(p, "privacy") { return .privacy }
            if SIPBytes.equalsLower(p, "require") { return .require }
            if SIPBytes.equalsLower(p, "subject") { return .subject }
            if SIPBytes.equalsLower(p, "warning") { return .warning }
        case 8:
            if SIPBytes.equalsLower(p, "identity") { return .identity }
            if SIPBytes.equalsLower(p, "priority") { return .priority }
            if SIPBytes.equalsLower(p, "refer-to") { return .referTo }
            if SIPBytes.equalsLower(p, "replaces") { return .replaces }
            if SIPBytes.equalsLower(p, "reply-to") { return .replyTo }
            if SIPBytes.equalsLower(p, "sip-etag") { return .sipETag }
        case 9:
            if SIPBytes.equalsLower(p, "call-info") { return .callInfo }
            if SIPBytes.equalsLower(p, "supported") { return .supported }
            if SIPBytes.equalsLower(p, "timestamp") { return .timestamp }
        case 10:
            if SIPBytes.equalsLower(p, "alert-info") { return .alertInfo }
            if SIPBytes.equalsLower(p, "error-info") { return .errorInfo }
            if SIPBytes.equalsLower(p, "user-agent") { return .userAgent }
        case 11:
            if SIPBytes.equalsLower(p, "in-reply-to") { return .inReplyTo }
            if SIPBytes.equalsLower(p, "min-expires") { return .minExpires }
            if SIPBytes.equalsLower(p, "referred-by") { return .referredBy }
            if SIPBytes.equalsLower(p, "retry-after") { return .retryAfter }
            if SIPBytes.equalsLower(p, "unsupported") { return .unsupported }
        case 12:
            if SIPBytes.equalsLower(p, "allow-events") { return .allowEvents }
            if SIPBytes.equalsLower(p, "content-type") { return .contentType }
            if SIPBytes.equalsLower(p, "max-forwards") { return .maxForwards }
            if SIPBytes.equalsLower(p, "mime-version") { return .mimeVersion }
            if SIPBytes.equalsLower(p, "organization") { return .organization }
            if SIPBytes.equalsLower(p, "record-route") { return .recordRoute }
            if SIPBytes.equalsLower(p, "sip-if-match") { return .sipIfMatch }
        case 13:
            if SIPBytes.equalsLower(p, "authorization") { return .authorization }
            if SIPBytes.equalsLower(p, "identity-info") { return .identityInfo }
            if SIPBytes.equalsLower(p, "proxy-require") { return .proxyRequire }
            if SIPBytes.equalsLower(p, "service-route") { return .serviceRoute }
        case 14:
            if SIPBytes.equalsLower(p, "accept-contact") { return .acceptContact }
            if SIPBytes.equalsLower(p, "content-length") { return .contentLength }
            if SIPBytes.equalsLower(p, "reject-contact") { return .rejectContact }
        case 15:
            if SIPBytes.equalsLower(p, "accept-encoding") { return .acceptEncoding }
            if SIPBytes.equalsLower(p, "accept-language") { return .acceptLanguage }
            if SIPBytes.equalsLower(p, "session-expires") { return .sessionExpires }
        case 16:
            if SIPBytes.equalsLower(p, "content-encoding") { return .contentEncoding }
            if SIPBytes.equalsLower(p, "content-language") { return .contentLanguage }
            if SIPBytes.equalsLower(p, "www-authenticate") { return .wwwAuthenticate }
        case 18:
            if SIPBytes.equalsLower(p, "proxy-authenticate") { return .proxyAuthenticate }
            if SIPBytes.equalsLower(p, "subscription-state") { return .subscriptionState }
        case 19:
            if SIPBytes.equalsLower(p, "authentication-info") { return .authenticationInfo }
            if SIPBytes.equalsLower(p, "content-disposition") { return .contentDisposition }
            if SIPBytes.equalsLower(p, "p-asserted-identity") { return .pAssertedIdentity }
            if SIPBytes.equalsLower(p, "proxy-authorization") { return .proxyAuthorization }
            if SIPBytes.equalsLower(p, "request-disposition") { return .requestDisposition }
        case 20:
            if SIPBytes.equalsLower(p, "p-preferred-identity") { return .pPreferredIdentity }
        default: break
        }
        return .other
    }

    static func lookup(_ name: String) -> SIPHeaderName {
        SIPBytes.withBytesNoThrow(name) { lookup($0) }
    }

    /// Headers whose values are comma-separated lists (RFC 3261 §7.3.1): `headers(_:)` splits
    /// them. Authentication challenges and credentials are never split.
    var isList: Bool {
        switch self {
        case .accept, .acceptContact, .acceptEncoding, .acceptLanguage, .alertInfo, .allow, .allowEvents,
            .callInfo, .contact, .contentEncoding, .contentLanguage, .errorInfo, .inReplyTo,
            .pAssertedIdentity, .pPreferredIdentity, .path, .proxyRequire, .reason, .recordRoute,
            .rejectContact, .requestDisposition, .require, .route, .serviceRoute, .supported,
            .unsupported, .via, .warning:
            return true
        default:
            return false
        }
    }

    /// Headers that may appear at most once (RFC 3261 §7.3.1, §20 single-value headers).
    var isSingle: Bool {
        switch self {
        case .callID, .contentLength, .contentType, .cseq, .from, .to, .maxForwards, .expires, .minExpires,
            .contentDisposition, .mimeVersion, .rack, .rseq, .date, .sessionExpires, .minSE, .event,
            .subscriptionState, .referTo:
            return true
        default:
            return false
        }
    }
}
