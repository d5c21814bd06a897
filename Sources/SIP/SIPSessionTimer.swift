// Session timers (RFC 4028): what a call's INVITE asks for, what a 2xx or a 422 settles, when
// the refresher re-INVITEs and when the other side gives up. Values in, values out; SIPCall
// carries the result out with its reactor timer.
//
// Keys (Yealink names):
//   account.1.session_timer.enable     0|1 [0]  ask for a session timer (Supported: timer,
//                                      Session-Expires, Min-SE) and accept one asked for
//   account.1.session_timer.expires    90..7200 s [1800]  the interval asked for
//   account.1.session_timer.refresher  0 (uac: the caller refreshes) | 1 (uas) [0]

import Config

/// Who refreshes the session, relative to the transaction that settled it (RFC 4028 §4).
public enum SIPSessionRefresher: Equatable, Sendable {
    case uac
    case uas

    var text: String { self == .uac ? "uac" : "uas" }
}

/// The account's session-timer settings.
public struct SIPSessionTimerSettings: Equatable, Sendable {
    public var enabled = false
    /// Session-Expires asked for, seconds.
    public var expires = 1800
    /// Which side should refresh when the phone gets to choose.
    public var refresher = SIPSessionRefresher.uac
    /// The smallest interval the phone accepts (RFC 4028 §5: at least 90 s).
    public static let minimum = 90

    public init(enabled: Bool = false, expires: Int = 1800, refresher: SIPSessionRefresher = .uac) {
        self.enabled = enabled
        self.expires = expires
        self.refresher = refresher
    }

    /// `account.N.session_timer.*` from a provisioning file.
    init(_ file: ConfigFile, prefix: String) throws(ConfigError) {
        let key = prefix + "session_timer."
        enabled = try file.bool(key + "enable", default: false)
        expires = try file.int(key + "expires", default: 1800, in: SIPSessionTimerSettings.minimum...7200)
        refresher = try file.int(key + "refresher", default: 0, in: 0...1) == 0 ? .uac : .uas
    }
}

/// A dialog's running session timer: the interval and whether this phone refreshes.
public struct SIPSessionTimer: Equatable, Sendable, CustomStringConvertible {
    public var interval: Int
    public var weRefresh: Bool

    /// When the refresher sends its refresh: half the interval (§7.4, §9).
    public var refreshSeconds: Int { max(1, interval / 2) }
    /// When the other side ends the session without a refresh: the interval less a third of
    /// it, at most 32 s less (§10).
    public var expirySeconds: Int { interval - min(32, interval / 3) }

    public var description: String {
        String(interval) + " s, refresher " + (weRefresh ? "us" : "them")
    }
}

/// The header work of RFC 4028 for one call.
public enum SIPSessionTimerNegotiation {
    /// `Session-Expires: delta-seconds[;refresher=uac|uas]` (compact `x`); nil when absent or
    /// not a number.
    public static func sessionExpires(_ message: SIPMessage) -> (seconds: Int, refresher: SIPSessionRefresher?)? {
        guard let value = message.header("Session-Expires") else { return nil }
        var parts = value.split(separator: ";", omittingEmptySubsequences: false).makeIterator()
        guard let first = parts.next(), let seconds = SIPBytes.number(trimmed(first), limit: 1 << 30), seconds > 0
        else { return nil }
        var refresher: SIPSessionRefresher? = nil
        while let part = parts.next() {
            let parameter = ConfigFileText.asciiLowercase(trimmed(part))
            if parameter == "refresher=uac" { refresher = .uac }
            if parameter == "refresher=uas" { refresher = .uas }
        }
        return (seconds, refresher)
    }

    /// `Min-SE: delta-seconds`; nil when absent or not a number.
    public static func minSE(_ message: SIPMessage) -> Int? {
        guard let value = message.header("Min-SE") else { return nil }
        let number = value.split(separator: ";", omittingEmptySubsequences: false).first.map(trimmed) ?? ""
        return SIPBytes.number(number, limit: 1 << 30)
    }

    /// Whether option tag `tag` is in the message's `name` header (Supported, Require).
    public static func lists(_ message: SIPMessage, _ name: String, _ tag: String) -> Bool {
        message.optionTags(name).contains { ConfigFileText.asciiLowercase($0) == tag }
    }

    /// The headers of an INVITE (initial, re-INVITE or refresh) from a phone with `settings`:
    /// Supported, Session-Expires (`seconds`, by default the configured interval) and Min-SE.
    /// `weRefresh`: a running timer's refresher role (refresher=uac in our own request).
    public static func requestHeaders(
        _ settings: SIPSessionTimerSettings, seconds: Int? = nil, weRefresh: Bool? = nil
    ) -> [(String, String)] {
        guard settings.enabled else { return [] }
        var expires = String(seconds ?? settings.expires)
        switch weRefresh {
        case .some(true): expires += ";refresher=uac"
        case .some(false): expires += ";refresher=uas"
        case .none: if settings.refresher == .uac { expires += ";refresher=uac" }
        }
        // Min-SE: our floor, or the larger one a 422 taught us (an interval above our own, §7.3).
        let asked = seconds ?? settings.expires
        let minSE = asked > settings.expires ? asked : SIPSessionTimerSettings.minimum
        return [("Supported", "timer"), ("Session-Expires", expires), ("Min-SE", String(minSE))]
    }

    /// What a UAS does with an INVITE (§9).
    public enum ServerDecision: Equatable {
        /// No session timer for this dialog; nothing to add.
        case none
        /// Refuse with 422 and this Min-SE: the interval asked for is too small (§5).
        case tooSmall(minSE: Int)
        /// Accept: these headers go into the 2xx and this timer runs.
        case accept(SIPSessionTimer, headers: [(String, String)])

        public static func == (a: ServerDecision, b: ServerDecision) -> Bool {
            switch (a, b) {
            case (.none, .none): return true
            case (.tooSmall(let x), .tooSmall(let y)): return x == y
            case (.accept(let x, let hx), .accept(let y, let hy)):
                return x == y && hx.count == hy.count && !zip(hx, hy).contains { $0.0 != $1.0 || $0.1 != $1.1 }
            default: return false
            }
        }
    }

    /// The UAS side for `request` (initial INVITE or re-INVITE) with `settings`.
    public static func serve(_ request: SIPMessage, _ settings: SIPSessionTimerSettings) -> ServerDecision {
        guard settings.enabled else { return .none }
        let uacSupports = lists(request, "Supported", "timer") || lists(request, "Require", "timer")
        let minimum = max(SIPSessionTimerSettings.minimum, minSE(request) ?? 0)
        let interval: Int
        var refresher: SIPSessionRefresher
        if let asked = sessionExpires(request) {
            if asked.seconds < SIPSessionTimerSettings.minimum {
                return .tooSmall(minSE: SIPSessionTimerSettings.minimum)
            }
            // The UAS may shorten the interval, not below the Min-SE of the request (§9).
            interval = max(minimum, min(asked.seconds, settings.expires))
            refresher = asked.refresher ?? (uacSupports && settings.refresher == .uac ? .uac : .uas)
        } else {
            interval = max(minimum, settings.expires)
            refresher = uacSupports && settings.refresher == .uac ? .uac : .uas
        }
        if !uacSupports { refresher = .uas }  // a UAC without the extension cannot refresh
        var headers: [(String, String)] = [("Session-Expires", String(interval) + ";refresher=" + refresher.text)]
        if refresher == .uac { headers.append(("Require", "timer")) }
        return .accept(SIPSessionTimer(interval: interval, weRefresh: refresher == .uas), headers: headers)
    }

    /// The UAC side: the timer a 2xx to our (re-)INVITE settles (§7.2). Without Session-Expires
    /// in the 2xx the far end does not do session timers; the phone then refreshes itself.
    public static func settled(by response: SIPMessage, _ settings: SIPSessionTimerSettings, asked: Int)
        -> SIPSessionTimer?
    {
        guard settings.enabled else { return nil }
        guard let granted = sessionExpires(response) else { return SIPSessionTimer(interval: asked, weRefresh: true) }
        return SIPSessionTimer(interval: granted.seconds, weRefresh: (granted.refresher ?? .uac) == .uac)
    }

    /// The interval to ask for after a 422 (§7.3): the 422's Min-SE, if it is a usable larger one.
    public static func retryInterval(after response: SIPMessage, asked: Int) -> Int? {
        guard let minimum = minSE(response), minimum > asked, minimum <= 86_400 else { return nil }
        return minimum
    }

    private static func trimmed(_ text: Substring) -> String { String(ConfigFileText.trim(text)) }
}

extension SIPMessage {
    /// The option tags of a Supported, Require or Unsupported header (RFC 3261 §19.2), each
    /// trimmed, empty ones dropped: what the 420 check and the session-timer negotiation read.
    func optionTags(_ name: String) -> [String] {
        var tags: [String] = []
        for value in headers(name) {
            let tag = String(ConfigFileText.trim(Substring(value)))
            if !tag.isEmpty { tags.append(tag) }
        }
        return tags
    }
}
