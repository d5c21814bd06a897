// SIP request methods (RFC 3261 §7.1, §27.4; RFC 3262, 3265, 3311, 3428, 3515, 3903, 6086).

/// A SIP request method. Methods are case-sensitive tokens (RFC 3261 §7.1): `INVITE` is
/// `.invite`, `invite` is `.other("invite")`. Build methods with `init(_:)` so that a standard
/// name always maps to its own case.
public enum SIPMethod: Hashable, Sendable, CustomStringConvertible {
    case invite, ack, bye, cancel, register, options, info, update, prack, subscribe, notify
    case refer, message, publish
    case other(String)

    /// Validates `token` (RFC 3261 §25.1 token characters, non-empty).
    public init(_ token: String) throws(SIPError) {
        var text = token
        let ok = text.withUTF8 { p in SIPBytes.isToken(UnsafeRawBufferPointer(p)) }
        guard ok else { throw SIPError("method '\(token)' is not a token") }
        self = SIPMethod(validToken: token)
    }

    /// From a token already checked.
    init(validToken token: String) {
        switch token {
        case "INVITE": self = .invite
        case "ACK": self = .ack
        case "BYE": self = .bye
        case "CANCEL": self = .cancel
        case "REGISTER": self = .register
        case "OPTIONS": self = .options
        case "INFO": self = .info
        case "UPDATE": self = .update
        case "PRACK": self = .prack
        case "SUBSCRIBE": self = .subscribe
        case "NOTIFY": self = .notify
        case "REFER": self = .refer
        case "MESSAGE": self = .message
        case "PUBLISH": self = .publish
        default: self = .other(token)
        }
    }

    /// From the bytes of a token already checked; no allocation for the standard methods.
    init(validBytes p: UnsafeRawBufferPointer) {
        switch p.count {
        case 3:
            if SIPBytes.equals(p, "ACK") { self = .ack; return }
            if SIPBytes.equals(p, "BYE") { self = .bye; return }
        case 4:
            if SIPBytes.equals(p, "INFO") { self = .info; return }
        case 5:
            if SIPBytes.equals(p, "PRACK") { self = .prack; return }
            if SIPBytes.equals(p, "REFER") { self = .refer; return }
        case 6:
            if SIPBytes.equals(p, "INVITE") { self = .invite; return }
            if SIPBytes.equals(p, "CANCEL") { self = .cancel; return }
            if SIPBytes.equals(p, "UPDATE") { self = .update; return }
            if SIPBytes.equals(p, "NOTIFY") { self = .notify; return }
        case 7:
            if SIPBytes.equals(p, "OPTIONS") { self = .options; return }
            if SIPBytes.equals(p, "MESSAGE") { self = .message; return }
            if SIPBytes.equals(p, "PUBLISH") { self = .publish; return }
        case 8:
            if SIPBytes.equals(p, "REGISTER") { self = .register; return }
        case 9:
            if SIPBytes.equals(p, "SUBSCRIBE") { self = .subscribe; return }
        default: break
        }
        self = .other(SIPBytes.string(p))
    }

    /// The method token as sent on the wire.
    public var name: String {
        switch self {
        case .invite: return "INVITE"
        case .ack: return "ACK"
        case .bye: return "BYE"
        case .cancel: return "CANCEL"
        case .register: return "REGISTER"
        case .options: return "OPTIONS"
        case .info: return "INFO"
        case .update: return "UPDATE"
        case .prack: return "PRACK"
        case .subscribe: return "SUBSCRIBE"
        case .notify: return "NOTIFY"
        case .refer: return "REFER"
        case .message: return "MESSAGE"
        case .publish: return "PUBLISH"
        case .other(let token): return token
        }
    }

    public var description: String { name }
}
